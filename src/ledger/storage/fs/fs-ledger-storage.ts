import { createHash, randomBytes } from 'node:crypto'
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  unlink,
} from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, ensureDir, fsyncDir } from '../../../core/index.js'
import { bytesEqual, fromHex, toHex, utf8Bytes } from '../../encoding.js'
import { LedgerError, LedgerErrors } from '../../ledger-error.js'
import { entriesPath, tilePath } from '../../tiles.js'
import type { IntegrationCommit, IoOptions, LedgerStorage, TreeState } from '../ledger-storage.js'
import { decodeWal, encodeWalRecord } from './wal.js'

/** Magic and version of a batch file of the previous format, read once at open (README.md). */
const BATCH_MAGIC = utf8Bytes('SOVRASEQ')
const BATCH_VERSION = 1
/** Version of `state/tree.json`. */
const TREE_VERSION = 1
/** Past this size, an integration that leaves entries pending rewrites the WAL to just them. */
const WAL_REWRITE_BYTES = 64 * 1024 * 1024
/** Entries per record when the WAL is rewritten. */
const REWRITE_RECORD_ENTRIES = 1024

/** Options of `FsLedgerStorage.open`. */
export interface FsLedgerStorageOptions extends IoOptions {
  /** WAL size past which it is rewritten to its pending entries (default 64 MiB; for tests). */
  readonly walRewriteBytes?: number
}

/** A batch file of the previous format that is not integrated yet; unlinked once it is. */
interface LegacyBatch {
  readonly end: number
  readonly file: string
}

/**
 * LedgerStorage in a folder of plain files, tlog-tiles layout for what clients read. Sequenced
 * entries go to an append-only write-ahead log (`state/sequenced/wal`, one record and one
 * fdatasync per group commit) and are kept in memory until integrated; every other file is
 * written temp → fsync → rename → fsync dir. See README.md for the layout, the life of a write
 * and what survives `kill -9`.
 */
export class FsLedgerStorage implements LedgerStorage {
  readonly #root: string
  readonly #seqDir: string
  readonly #walPath: string
  readonly #walRewriteBytes: number
  #wal: FileHandle
  #walSize: number
  /** Entries `#integrated..#next-1`, in order (bounded by the log's `maxPending`). */
  #pending: Uint8Array[]
  #legacy: LegacyBatch[]
  #integrated: number
  #next: number
  /** Sequencing and WAL maintenance, one task at a time. */
  #queue: Promise<unknown> = Promise.resolve()
  /** Integration and checkpoint writes in progress (close waits for them). */
  readonly #io = new Set<Promise<unknown>>()
  /** Set when the WAL is in an unknown state; sequencing then fails until the next open. */
  #broken: unknown
  #closed = false

  private constructor(init: {
    root: string
    wal: FileHandle
    walSize: number
    walRewriteBytes: number
    pending: Uint8Array[]
    legacy: LegacyBatch[]
    integrated: number
  }) {
    this.#root = init.root
    this.#seqDir = join(init.root, 'state', 'sequenced')
    this.#walPath = join(this.#seqDir, 'wal')
    this.#walRewriteBytes = init.walRewriteBytes
    this.#wal = init.wal
    this.#walSize = init.walSize
    this.#pending = init.pending
    this.#legacy = init.legacy
    this.#integrated = init.integrated
    this.#next = init.integrated + init.pending.length
  }

  /**
   * Opens (or creates) the log folder `root`: reads the tree state, sweeps temp files, reads
   * batch files of the previous format and the WAL, truncates a torn last WAL record (a crash
   * mid-append: never acknowledged), keeps the entries the tree does not cover in memory, and
   * checks they continue the tree without gaps. A WAL the tree fully covers is emptied.
   */
  static async open(root: string, options: FsLedgerStorageOptions = {}): Promise<FsLedgerStorage> {
    options.signal?.throwIfAborted()
    const seqDir = join(root, 'state', 'sequenced')
    const walPath = join(seqDir, 'wal')
    await mkdir(seqDir, { recursive: true })
    await fsyncDir(join(root, 'state'))
    await fsyncDir(root)
    const state = await readTreeFile(root, options.signal)
    const integrated = state?.size ?? 0
    // Everything not yet integrated, in file order: old-format batches, then WAL records.
    const runs: Array<{ first: number; entries: Uint8Array[]; where: string }> = []
    const legacy: LegacyBatch[] = []
    for (const name of (await readdir(seqDir)).sort()) {
      const file = join(seqDir, name)
      if (name.startsWith('.tmp-')) {
        await unlink(file)
        continue
      }
      if (!/^\d{20}\.batch$/.test(name)) continue
      const batch = decodeBatch(await readFile(file, { signal: options.signal }), name)
      const end = batch.first + batch.entries.length
      if (end <= integrated) {
        await unlink(file)
        continue
      }
      runs.push({ first: batch.first, entries: batch.entries, where: `batch "${name}"` })
      legacy.push({ end, file })
    }
    const raw = (await readOptional(walPath, options.signal)) ?? new Uint8Array(0)
    const wal = decodeWal(raw, walPath)
    let walSize = wal.tornAt ?? raw.byteLength
    let walPending = false
    for (const r of wal.records) {
      if (r.first + r.entries.length <= integrated) continue
      runs.push({ first: r.first, entries: r.entries, where: `the WAL record at byte ${r.offset}` })
      walPending = true
    }
    const pending: Uint8Array[] = []
    let expect = runs[0] && runs[0].first <= integrated ? runs[0].first : integrated
    for (const run of runs) {
      if (run.first !== expect) {
        throw LedgerErrors.corrupt(
          `sequenced entries in "${seqDir}"`,
          `${run.where} starts at ${run.first}, not at ${expect}`,
        )
      }
      const skip = Math.max(0, integrated - run.first)
      for (let i = skip; i < run.entries.length; i++) pending.push(run.entries[i] as Uint8Array)
      expect = run.first + run.entries.length
    }
    const handle = await open(walPath, 'a', 0o600)
    try {
      // A torn tail was never acknowledged; a WAL the tree covers is no longer needed.
      const keep = walPending ? walSize : 0
      if (keep < raw.byteLength) {
        await handle.truncate(keep)
        await handle.sync()
        walSize = keep
      }
      await fsyncDir(seqDir) // the WAL's name, the sweeps and unlinks
    } catch (error) {
      await handle.close()
      throw error
    }
    return new FsLedgerStorage({
      root,
      wal: handle,
      walSize,
      walRewriteBytes: options.walRewriteBytes ?? WAL_REWRITE_BYTES,
      pending,
      legacy,
      integrated,
    })
  }

  sequencedSize(): number {
    return this.#next
  }

  sequence(entries: readonly Uint8Array[], options: IoOptions = {}): Promise<number> {
    return this.#serial('sequence entries', options, async () => {
      if (this.#broken !== undefined) throw this.#broken
      if (entries.length === 0) return this.#next
      const first = this.#next
      const { bytes, views } = encodeWalRecord(first, entries)
      // From here on the signal is not consulted: a half-done append must be finished or undone.
      const at = this.#walSize
      try {
        await writeAll(this.#wal, bytes)
        await this.#wal.datasync()
      } catch (error) {
        await this.#undoAppend(at)
        throw error
      }
      this.#walSize = at + bytes.byteLength
      for (const v of views) this.#pending.push(v)
      this.#next = first + entries.length
      return first
    })
  }

  /**
   * Returns the stored entries themselves (views into the WAL bytes, not copies): callers must
   * not modify them.
   */
  async readSequenced(from: number, limit: number, options: IoOptions = {}): Promise<Uint8Array[]> {
    this.#check('read sequenced entries', options)
    if (from < this.#integrated || from > this.#next) {
      throw LedgerErrors.outOfRange(
        `read sequenced entries from ${from}`,
        `waiting entries are ${this.#integrated}..${this.#next}`,
      )
    }
    const at = from - this.#integrated
    return this.#pending.slice(at, at + Math.max(0, limit))
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
      const covered = Math.min(
        Math.max(0, commit.state.size - this.#integrated),
        this.#pending.length,
      )
      this.#pending.splice(0, covered)
      this.#integrated = commit.state.size
      // The tree state is durable: what it covers may go. Losing these steps in a crash is
      // harmless, open() drops covered batches and records again.
      const done = this.#legacy.filter((b) => b.end <= commit.state.size)
      if (done.length > 0) {
        this.#legacy = this.#legacy.filter((b) => b.end > commit.state.size)
        await Promise.all(done.map((b) => unlink(b.file)))
        await fsyncDir(this.#seqDir)
      }
      // Behind any append in flight, so a reset never cuts off a record it did not see.
      await this.#enqueue(() => this.#compactWal())
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
    await Promise.allSettled([...this.#io])
    await this.#queue
    await this.#wal.close()
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
    return this.#enqueue(async () => {
      this.#check(what, options)
      try {
        return await task()
      } catch (error) {
        throw wrap(what, options, error)
      }
    })
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Integration and checkpoint writes do not wait behind sequencing, only check state. */
  async #serialIo(what: string, options: IoOptions, task: () => Promise<void>): Promise<void> {
    this.#check(what, options)
    const run = (async () => {
      await ensureDir(this.#root)
      try {
        await task()
      } catch (error) {
        throw wrap(what, options, error)
      }
    })()
    this.#io.add(run)
    try {
      await run
    } finally {
      this.#io.delete(run)
    }
  }

  /** A failed append may have left part of its record: cut the WAL back to the last good one. */
  async #undoAppend(size: number): Promise<void> {
    try {
      await this.#wal.truncate(size)
      await this.#wal.sync()
    } catch (error) {
      this.#broken = LedgerErrors.storageFailed('undo a failed append to the sequencing log', error)
    }
  }

  /**
   * Runs on the sequencing queue after each integration. When the tree covers every record the
   * WAL is emptied in place (ftruncate + fsync); when entries are still pending and the WAL has
   * grown past `walRewriteBytes`, it is rewritten to just them (temp file → fsync → rename →
   * fsync dir). Neither ever fails the integration, which is already durable: a failure that
   * leaves the WAL in an unknown state stops sequencing until the next open; a failed rewrite
   * before its rename is simply retried after the next integration.
   */
  async #compactWal(): Promise<void> {
    if (this.#broken !== undefined || this.#closed || this.#walSize === 0) return
    if (this.#pending.length === 0) {
      try {
        await this.#wal.truncate(0)
        await this.#wal.sync()
        this.#walSize = 0
      } catch (error) {
        this.#broken = LedgerErrors.storageFailed('empty the sequencing log', error)
      }
      return
    }
    if (this.#walSize < this.#walRewriteBytes) return
    // Appends wait on this queue; a concurrent integration may still drop entries meanwhile.
    const base = this.#integrated
    const snapshot = this.#pending.slice()
    const tmp = join(this.#seqDir, `.tmp-wal-${randomBytes(6).toString('hex')}`)
    const views: Uint8Array[] = []
    let size = 0
    try {
      const handle = await open(tmp, 'wx', 0o600)
      try {
        for (let i = 0; i < snapshot.length; i += REWRITE_RECORD_ENTRIES) {
          const chunk = snapshot.slice(i, i + REWRITE_RECORD_ENTRIES)
          const record = encodeWalRecord(base + i, chunk)
          await writeAll(handle, record.bytes)
          size += record.bytes.byteLength
          views.push(...record.views)
        }
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(tmp, this.#walPath)
    } catch {
      await rm(tmp, { force: true }).catch(() => undefined)
      return
    }
    try {
      await fsyncDir(this.#seqDir)
      const old = this.#wal
      this.#wal = await open(this.#walPath, 'a', 0o600)
      this.#walSize = size
      this.#pending = views.slice(this.#integrated - base)
      await old.close()
    } catch (error) {
      this.#broken = LedgerErrors.storageFailed('switch to the rewritten sequencing log', error)
    }
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let at = 0
  while (at < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at)
    at += bytesWritten
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
 * Batch file of the previous format (one per group commit, never released): "SOVRASEQ" | u8
 * version | u64 first index | u32 count | (u32 length | entry)* | SHA-256 of everything before it.
 */
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
