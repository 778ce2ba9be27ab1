import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesEqual, concatBytes, fromHex, toHex, utf8Bytes } from '../../encoding.js'
import { LedgerError, LedgerErrors } from '../../ledger-error.js'
import { entriesPath, tilePath } from '../../tiles.js'
import type { IntegrationCommit, IoOptions, LedgerStorage, TreeState } from '../ledger-storage.js'
import { atomicWrite, ensureDir, fsyncDir } from './atomic-write.js'

/** Magic and version of a sequenced-batch file (see README.md). */
const BATCH_MAGIC = utf8Bytes('SOVRASEQ')
const BATCH_VERSION = 1
/** Version of `state/tree.json`. */
const TREE_VERSION = 1

interface Segment {
  readonly first: number
  readonly count: number
  readonly file: string
}

/**
 * LedgerStorage in a folder of plain files, tlog-tiles layout for what clients read. Every file
 * is written temp → fsync → rename → fsync dir. See README.md for the layout, the life of a write
 * and what survives `kill -9`.
 */
export class FsLedgerStorage implements LedgerStorage {
  readonly #root: string
  readonly #seqDir: string
  #segments: Segment[]
  #integrated: number
  #next: number
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false

  private constructor(root: string, segments: Segment[], integrated: number) {
    this.#root = root
    this.#seqDir = join(root, 'state', 'sequenced')
    this.#segments = segments
    this.#integrated = integrated
    const last = segments[segments.length - 1]
    this.#next = Math.max(integrated, last ? last.first + last.count : 0)
  }

  /**
   * Opens (or creates) the log folder `root`: reads the tree state, drops sequenced batches it
   * already covers (a crash after the tree state was written) and temp files, and checks the
   * remaining batches continue the tree without gaps.
   */
  static async open(root: string, options: IoOptions = {}): Promise<FsLedgerStorage> {
    options.signal?.throwIfAborted()
    const seqDir = join(root, 'state', 'sequenced')
    await mkdir(seqDir, { recursive: true })
    await fsyncDir(join(root, 'state'))
    await fsyncDir(root)
    const state = await readTreeFile(root, options.signal)
    const integrated = state?.size ?? 0
    const segments: Segment[] = []
    for (const name of (await readdir(seqDir)).sort()) {
      const file = join(seqDir, name)
      if (name.startsWith('.tmp-')) {
        await unlink(file)
        continue
      }
      if (!/^\d{20}\.batch$/.test(name)) continue
      const entries = decodeBatch(await readFile(file, { signal: options.signal }), name)
      const segment = { first: entries.first, count: entries.entries.length, file }
      if (segment.first + segment.count <= integrated) {
        await unlink(file)
        continue
      }
      segments.push(segment)
    }
    let expect = segments[0] && segments[0].first <= integrated ? segments[0].first : integrated
    for (const s of segments) {
      if (s.first !== expect) {
        throw LedgerErrors.corrupt(
          `sequenced batches in "${seqDir}"`,
          `batch at ${s.first} does not continue at ${expect}`,
        )
      }
      expect = s.first + s.count
    }
    await fsyncDir(seqDir)
    return new FsLedgerStorage(root, segments, integrated)
  }

  sequencedSize(): number {
    return this.#next
  }

  sequence(entries: readonly Uint8Array[], options: IoOptions = {}): Promise<number> {
    return this.#serial('sequence entries', options, async () => {
      if (entries.length === 0) return this.#next
      const first = this.#next
      const name = `${String(first).padStart(20, '0')}.batch`
      const file = join(this.#seqDir, name)
      await atomicWrite(file, encodeBatch(first, entries), options)
      this.#segments.push({ first, count: entries.length, file })
      this.#next = first + entries.length
      return first
    })
  }

  async readSequenced(from: number, limit: number, options: IoOptions = {}): Promise<Uint8Array[]> {
    this.#check('read sequenced entries', options)
    if (from < this.#integrated || from > this.#next) {
      throw LedgerErrors.outOfRange(
        `read sequenced entries from ${from}`,
        `waiting entries are ${this.#integrated}..${this.#next}`,
      )
    }
    const out: Uint8Array[] = []
    for (const s of [...this.#segments]) {
      if (out.length >= limit) break
      if (s.first + s.count <= from + out.length) continue
      const batch = decodeBatch(await readFile(s.file, { signal: options.signal }), s.file)
      const skip = from + out.length - s.first
      out.push(...batch.entries.slice(skip, skip + limit - out.length))
    }
    return out
  }

  async readTreeState(options: IoOptions = {}): Promise<TreeState | undefined> {
    this.#check('read the tree state', options)
    return readTreeFile(this.#root, options.signal)
  }

  commitIntegration(commit: IntegrationCommit, options: IoOptions = {}): Promise<void> {
    return this.#serialIo('commit integration', options, async () => {
      const files = [...commit.tiles, ...commit.bundles]
      // Tiles first: the tree state must never name a tree whose tiles are not durable.
      await Promise.all(files.map(([path, bytes]) => atomicWrite(this.#path(path), bytes, options)))
      const json = JSON.stringify({
        version: TREE_VERSION,
        size: commit.state.size,
        root: toHex(commit.state.root),
      })
      await atomicWrite(join(this.#root, 'state', 'tree.json'), utf8Bytes(`${json}\n`), options)
      this.#integrated = commit.state.size
      const done = this.#segments.filter((s) => s.first + s.count <= commit.state.size)
      this.#segments = this.#segments.filter((s) => s.first + s.count > commit.state.size)
      // Losing these unlinks in a crash is harmless: open() drops covered batches again.
      await Promise.all(done.map((s) => unlink(s.file)))
      if (done.length > 0) await fsyncDir(this.#seqDir)
    })
  }

  async readTile(
    level: number,
    index: number,
    width: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | undefined> {
    this.#check('read a tile', options)
    return readOptional(this.#path(tilePath(level, index, width)), options.signal)
  }

  async readEntryBundle(
    index: number,
    width: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | undefined> {
    this.#check('read an entry bundle', options)
    return readOptional(this.#path(entriesPath(index, width)), options.signal)
  }

  async readCheckpoint(options: IoOptions = {}): Promise<string | undefined> {
    this.#check('read the checkpoint', options)
    const bytes = await readOptional(join(this.#root, 'checkpoint'), options.signal)
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes)
  }

  writeCheckpoint(note: string, options: IoOptions = {}): Promise<void> {
    return this.#serialIo('write the checkpoint', options, () =>
      atomicWrite(join(this.#root, 'checkpoint'), utf8Bytes(note), options),
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#queue
  }

  #path(tlogPath: string): string {
    return join(this.#root, ...tlogPath.split('/'))
  }

  #check(what: string, options: IoOptions): void {
    if (this.#closed) throw LedgerErrors.closed(this.#root)
    if (options.signal?.aborted) throw LedgerErrors.aborted(what, options.signal.reason)
  }

  /** Sequencing is serialized so batches are durable in index order. */
  #serial<T>(what: string, options: IoOptions, task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      this.#check(what, options)
      try {
        return await task()
      } catch (error) {
        throw wrap(what, options, error)
      }
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Integration and checkpoint writes do not wait behind sequencing, only check state. */
  async #serialIo(what: string, options: IoOptions, task: () => Promise<void>): Promise<void> {
    this.#check(what, options)
    await ensureDir(this.#root)
    try {
      await task()
    } catch (error) {
      throw wrap(what, options, error)
    }
  }
}

function wrap(what: string, options: IoOptions, error: unknown): LedgerError {
  if (error instanceof LedgerError) return error
  if (options.signal?.aborted) return LedgerErrors.aborted(what, error)
  return LedgerErrors.storageFailed(what, error)
}

async function readOptional(
  path: string,
  signal: AbortSignal | undefined,
): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path, { signal }))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

async function readTreeFile(
  root: string,
  signal: AbortSignal | undefined,
): Promise<TreeState | undefined> {
  const bytes = await readOptional(join(root, 'state', 'tree.json'), signal)
  if (bytes === undefined) return undefined
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as {
    version?: unknown
    size?: unknown
    root?: unknown
  }
  if (
    parsed.version !== TREE_VERSION ||
    typeof parsed.size !== 'number' ||
    typeof parsed.root !== 'string'
  ) {
    throw LedgerErrors.corrupt(
      `"${join(root, 'state', 'tree.json')}"`,
      `version ${String(parsed.version)} is not 1`,
    )
  }
  return { size: parsed.size, root: fromHex(parsed.root) }
}

/**
 * Batch file: "SOVRASEQ" | u8 version | u64 first index | u32 count | (u32 length | entry)* |
 * SHA-256 of everything before it. The checksum catches bit rot; torn writes cannot happen
 * because batches are renamed into place whole.
 */
function encodeBatch(first: number, entries: readonly Uint8Array[]): Uint8Array {
  const header = Buffer.alloc(BATCH_MAGIC.length + 1 + 8 + 4)
  header.set(BATCH_MAGIC, 0)
  header.writeUInt8(BATCH_VERSION, 8)
  header.writeBigUInt64BE(BigInt(first), 9)
  header.writeUInt32BE(entries.length, 17)
  const parts: Uint8Array[] = [header]
  for (const e of entries) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(e.byteLength)
    parts.push(len, e)
  }
  const body = concatBytes(parts)
  return concatBytes([body, createHash('sha256').update(body).digest()])
}

function decodeBatch(raw: Uint8Array, name: string): { first: number; entries: Uint8Array[] } {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const bad = (state: string) => LedgerErrors.corrupt(`sequenced batch "${name}"`, state)
  if (buf.length < 21 + 32 || !bytesEqual(buf.subarray(0, 8), BATCH_MAGIC))
    throw bad('it is not a batch file')
  const version = buf.readUInt8(8)
  if (version !== BATCH_VERSION) throw bad(`version ${version} is not ${BATCH_VERSION}`)
  const body = buf.subarray(0, buf.length - 32)
  if (!bytesEqual(createHash('sha256').update(body).digest(), buf.subarray(buf.length - 32))) {
    throw bad('its checksum does not match')
  }
  const first = Number(buf.readBigUInt64BE(9))
  const count = buf.readUInt32BE(17)
  const entries: Uint8Array[] = []
  let at = 21
  for (let i = 0; i < count; i++) {
    if (at + 4 > body.length) throw bad('it is truncated')
    const len = body.readUInt32BE(at)
    at += 4
    if (at + len > body.length) throw bad('it is truncated')
    entries.push(new Uint8Array(body.subarray(at, at + len)))
    at += len
  }
  if (at !== body.length) throw bad('it has trailing bytes')
  return { first, entries }
}
