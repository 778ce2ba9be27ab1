import { randomBytes } from 'node:crypto'
import {
  close as closeFd,
  createReadStream,
  createWriteStream,
  fdatasync,
  fsync,
  open as openFd,
  read as readFd,
  write as writeFd,
  writev as writevFd,
} from 'node:fs'
import { mkdir, opendir, readdir, rename, rm, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fsyncDir } from '../../core/index.js'
import { BlobErrors } from '../blob-error.js'
import type { BlobStore, BlobWriteCheck, BlobWriteOptions, PendingBlob } from '../blob-store.js'
import { WriteTail } from './write-tail.js'

/** Settings of the file-system blob driver. */
export interface FsBlobStoreConfig {
  readonly driver: 'fs'
  /** Folder holding `tmp/` and `objects/`; created if missing. */
  readonly root: string
}

/**
 * Size of each write and read. 256 KiB: measured against 1 MiB with 16 concurrent 64 MiB transfers,
 * peak RSS fell from ~211 MB to ~140 MB and 64 MiB GETs got faster (docs/benchmarks.md).
 */
const IO_CHUNK = 256 * 1024
/**
 * Write-behind: while a blob streams in, every 32 MiB written starts an fdatasync of the temp file
 * (on libuv's pool, one at a time), so the disk writes a large blob while the rest still arrives
 * instead of all of it at the final fsync. Without it the page cache holds up to the kernel's
 * dirty threshold (gigabytes) and the final fsync writes everything while the writer waits.
 */
const WRITE_BEHIND_BYTES = 32 * 1024 * 1024
/** How many unlinks `remove` runs at once. */
const REMOVE_CONCURRENCY = 16
/** A ref is 128 random bits in hex; anything else is never a path we touch. */
const REF = /^[0-9a-f]{32}$/
const SHARD = /^[0-9a-f]{2}$/
const SHARD_NAMES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Opens (creating if needed) a blob folder: `root/tmp/` and `root/objects/xx/yy/<ref>`. */
export async function openFsBlobStore(config: FsBlobStoreConfig): Promise<FsBlobStore> {
  const root = resolve(config.root)
  const objects = join(root, 'objects')
  await mkdir(join(root, 'tmp'), { recursive: true })
  await mkdir(objects, { recursive: true })
  // The 256 first-level shards exist from the start; second-level ones are made on first use,
  // off the hot path (while the blob streams to its temp file).
  await Promise.all(SHARD_NAMES.map((name) => mkdir(join(objects, name), { recursive: true })))
  await fsyncDir(objects)
  await fsyncDir(root)
  return new FsBlobStore({ ...config, root })
}

/** BlobStore on a local file system: temp file → fsync → rename → fsync dir. */
export class FsBlobStore implements BlobStore {
  readonly #config: Readonly<FsBlobStoreConfig>
  readonly #tmp: string
  readonly #objects: string
  /** Second-level shard folders known to exist (or being made), by `xx/yy`. */
  readonly #shards = new Map<string, Promise<void>>()
  /** Refs being written now: their temp files are not leftovers. */
  readonly #inflight = new Set<string>()
  #closed = false

  /** Use `openFsBlobStore`; this expects the folders to exist. */
  constructor(config: FsBlobStoreConfig) {
    this.#config = Object.freeze({ ...config })
    this.#tmp = join(this.#config.root, 'tmp')
    this.#objects = join(this.#config.root, 'objects')
  }

  /**
   * Streams `source` to `tmp/<ref>` in writes of up to 256 KiB, fsyncs and closes it. With
   * `check`, a `WriteTail` reads the file back through its own descriptor as the writes return.
   */
  async write(
    source: AsyncIterable<Buffer> | Readable,
    options: BlobWriteOptions = {},
  ): Promise<PendingBlob> {
    if (this.#closed) throw BlobErrors.storeClosed()
    const { signal, check } = options
    const ref = randomBytes(16).toString('hex')
    if (isAborted(signal)) throw BlobErrors.aborted(ref, signal?.reason)
    const tmpPath = join(this.#tmp, ref)
    const shardReady = this.#ensureShard(ref)
    // Awaited by commit(); a failure here must not surface as an unhandled rejection.
    shardReady.catch(() => {})

    let size = 0
    let sourceError: { readonly error: unknown } | null = null
    let unsynced = 0
    let syncing: Promise<void> | null = null
    let fd: number | null = null
    const writeBehind = () => {
      if (syncing !== null || fd === null) return
      const open = fd
      unsynced = 0
      // Errors are ignored: the final fsync (flush) reports what matters.
      syncing = new Promise<void>((done) => fdatasync(open, () => done())).then(() => {
        syncing = null
      })
    }
    async function* counted(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of source) {
          size += chunk.length
          unsynced += chunk.length
          if (unsynced >= WRITE_BEHIND_BYTES) writeBehind()
          yield chunk
        }
        // Settled before the stream's own fsync and close: never a sync of a closed descriptor.
        await syncing
      } catch (error) {
        sourceError = { error }
        throw error
      }
    }

    const checking = check === undefined ? null : startCheck(check, tmpPath, ref, signal)
    this.#inflight.add(ref)
    // `flush: true` fsyncs the file before the stream closes; pipeline resolves after the close.
    const out = createWriteStream(tmpPath, {
      flags: 'wx',
      mode: 0o600,
      highWaterMark: IO_CHUNK,
      flush: true,
      ...(checking === null ? {} : { fs: checking.fs }),
    } as Parameters<typeof createWriteStream>[1])
    out.once('open', (opened: number) => {
      fd = opened
      checking?.tail.opened()
    })
    const writeSignal = checking?.signal ?? signal
    try {
      await pipeline(counted(), out, writeSignal === undefined ? {} : { signal: writeSignal })
    } catch (err) {
      // Wait for the descriptor to close, so an open still in flight cannot recreate the file.
      if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()))
      await syncing
      const failed = sourceError as { readonly error: unknown } | null
      const error = isAborted(signal)
        ? BlobErrors.aborted(ref, signal?.reason)
        : failed !== null
          ? BlobErrors.sourceFailed(ref, failed.error)
          : BlobErrors.writeFailed(ref, err)
      // A check that failed stopped the write: its error is the one to report.
      const checkError = checking === null ? null : await checking.failedWith(error)
      await unlink(tmpPath).catch(() => {})
      this.#inflight.delete(ref)
      throw checkError ?? error
    }
    if (checking !== null) {
      const checkError = await checking.passed()
      if (checkError !== null) {
        await unlink(tmpPath).catch(() => {})
        this.#inflight.delete(ref)
        throw checkError
      }
    }
    return new FsPendingBlob({
      ref,
      size,
      tmpPath,
      finalPath: this.#pathOf(ref),
      shardReady,
      settled: () => this.#inflight.delete(ref),
    })
  }

  /** A 256 KiB-chunked read stream; a missing ref errors with `NotFound`. */
  read(ref: string, range?: { start: number; end: number }): Readable {
    if (this.#closed) return failedStream(BlobErrors.storeClosed())
    if (!REF.test(ref)) return failedStream(BlobErrors.notFound(ref))
    if (range !== undefined && !(range.start >= 0 && range.end >= range.start - 1)) {
      throw new RangeError(
        `Cannot read blob "${ref}": range "${range.start}-${range.end}" is invalid`,
      )
    }
    // Map ENOENT at open time to NotFound without wrapping the stream (no extra copy per chunk).
    const fs = {
      open: (
        path: string,
        flags: string,
        mode: number,
        callback: (err: NodeJS.ErrnoException | null, fd?: number) => void,
      ) =>
        openFd(path, flags, mode, (err, fd) =>
          callback(err?.code === 'ENOENT' ? BlobErrors.notFound(ref, err) : err, fd),
        ),
      read: readFd,
      close: closeFd,
    }
    return createReadStream(this.#pathOf(ref), {
      highWaterMark: IO_CHUNK,
      ...(range === undefined ? {} : { start: range.start, end: range.end }),
      fs,
    } as Parameters<typeof createReadStream>[1])
  }

  /** Unlinks committed blobs, a few at a time; missing ones are ignored. */
  async remove(refs: readonly string[]): Promise<void> {
    const queue = refs.filter((ref) => REF.test(ref))
    const worker = async (): Promise<void> => {
      for (let ref = queue.pop(); ref !== undefined; ref = queue.pop()) {
        await unlink(this.#pathOf(ref)).catch(ignoreMissing)
      }
    }
    await Promise.all(Array.from({ length: Math.min(REMOVE_CONCURRENCY, queue.length) }, worker))
  }

  /**
   * Removes temp files (except those of writes in progress here) and committed blobs for which
   * `isLive` is false. Meant for startup, before writes begin: a blob committed here but not yet
   * referenced by the metadata store would look like an orphan.
   */
  async sweep(
    isLive: (ref: string) => Promise<boolean>,
  ): Promise<{ readonly temp: number; readonly orphans: number }> {
    if (this.#closed) throw BlobErrors.storeClosed()
    let temp = 0
    for (const name of await readdir(this.#tmp)) {
      if (this.#inflight.has(name)) continue
      await rm(join(this.#tmp, name), { force: true, recursive: true })
      temp++
    }
    let orphans = 0
    for (const a of await readdir(this.#objects)) {
      if (!SHARD.test(a)) continue
      for (const b of await readdir(join(this.#objects, a))) {
        if (!SHARD.test(b)) continue
        const dir = join(this.#objects, a, b)
        for await (const entry of await opendir(dir)) {
          const ref = entry.name
          if (!REF.test(ref) || ref.slice(0, 2) !== a || ref.slice(2, 4) !== b) continue
          if (await isLive(ref)) continue
          await unlink(join(dir, ref)).catch(ignoreMissing)
          orphans++
        }
      }
    }
    return { temp, orphans }
  }

  /** Refuses new writes and reads; writes in progress finish. */
  async close(): Promise<void> {
    this.#closed = true
  }

  #pathOf(ref: string): string {
    return join(this.#objects, ref.slice(0, 2), ref.slice(2, 4), ref)
  }

  /** Makes `objects/xx/yy` once per process; a new folder's entry is fsynced into its parent. */
  #ensureShard(ref: string): Promise<void> {
    const key = `${ref.slice(0, 2)}/${ref.slice(2, 4)}`
    let ready = this.#shards.get(key)
    if (ready === undefined) {
      const parent = join(this.#objects, ref.slice(0, 2))
      ready = mkdir(join(parent, ref.slice(2, 4))).then(
        () => fsyncDir(parent),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err
        },
      )
      ready.catch(() => this.#shards.delete(key))
      this.#shards.set(key, ready)
    }
    return ready
  }
}

/** A written, fsynced temp file waiting for commit or discard. */
class FsPendingBlob implements PendingBlob {
  readonly ref: string
  readonly size: number
  readonly #tmpPath: string
  readonly #finalPath: string
  readonly #shardReady: Promise<void>
  readonly #settled: () => void
  #state: 'pending' | 'committing' | 'committed' | 'discarded' = 'pending'
  #committing: Promise<void> | null = null

  constructor(init: {
    ref: string
    size: number
    tmpPath: string
    finalPath: string
    shardReady: Promise<void>
    settled: () => void
  }) {
    this.ref = init.ref
    this.size = init.size
    this.#tmpPath = init.tmpPath
    this.#finalPath = init.finalPath
    this.#shardReady = init.shardReady
    this.#settled = init.settled
  }

  /** Renames into `objects/xx/yy/<ref>` and fsyncs that folder; idempotent. */
  commit(): Promise<void> {
    if (this.#state === 'discarded') return Promise.reject(BlobErrors.discarded(this.ref))
    this.#committing ??= this.#commit()
    return this.#committing
  }

  async #commit(): Promise<void> {
    this.#state = 'committing'
    try {
      await this.#shardReady
      await rename(this.#tmpPath, this.#finalPath)
      await fsyncDir(join(this.#finalPath, '..'))
      this.#state = 'committed'
      this.#settled()
    } catch (err) {
      this.#state = 'pending'
      this.#committing = null
      throw BlobErrors.writeFailed(this.ref, err)
    }
  }

  /** Removes the temp file unless committed; safe to call more than once. */
  async discard(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'discarded') return
    if (this.#state === 'committing') {
      // A commit in flight wins; discard only what it failed to commit.
      const committed = await (this.#committing ?? Promise.resolve()).then(
        () => true,
        () => false,
      )
      if (committed) return
    }
    this.#state = 'discarded'
    await unlink(this.#tmpPath).catch(ignoreMissing)
    this.#settled()
  }
}

/** A write's check in progress (`BlobWriteOptions.check`): its tail, its signal, its outcome. */
interface Checking {
  readonly tail: WriteTail
  /** The write's file-system hooks: each completed write is reported to the tail. */
  readonly fs: object
  /** Aborts the write when the check fails (or `signal` aborts). */
  readonly signal: AbortSignal
  /** The write failed with `error`: ends the check; the check's own error if it failed first. */
  failedWith(error: unknown): Promise<unknown | null>
  /** The write succeeded: the check's error, or null once it read every byte and resolved. */
  passed(): Promise<unknown | null>
}

/** Starts `check` on a tail of `path`, which the write is about to create. */
function startCheck(
  check: BlobWriteCheck,
  path: string,
  ref: string,
  signal: AbortSignal | undefined,
): Checking {
  const tail = new WriteTail(path, IO_CHUNK)
  const stop = new AbortController()
  // Whether the check failed while the write was still going (and so stopped it).
  let checkFailedFirst = false
  let writeEnded = false
  const stored = tail.stream()
  const outcome: Promise<{ readonly error: unknown } | null> = Promise.resolve()
    .then(() => check(stored, ref))
    .then(
      () => null,
      (error: unknown) => {
        if (!writeEnded) {
          checkFailedFirst = true
          stop.abort(error)
        }
        return { error }
      },
    )
  const settle = async (): Promise<{ readonly error: unknown } | null> => {
    const result = await outcome
    stored.destroy()
    await tail.close()
    return result
  }
  const landed = (err: NodeJS.ErrnoException | null, bytes: number) => {
    if (err === null) tail.landed(bytes)
  }
  return {
    tail,
    fs: {
      open: openFd,
      close: closeFd,
      fsync,
      write: (
        fd: number,
        buffer: Buffer,
        offset: number,
        length: number,
        position: number | null,
        done: (err: NodeJS.ErrnoException | null, bytes: number, buffer: Buffer) => void,
      ) =>
        writeFd(fd, buffer, offset, length, position, (err, bytes, b) => {
          landed(err, bytes)
          done(err, bytes, b)
        }),
      writev: (
        fd: number,
        buffers: NodeJS.ArrayBufferView[],
        position: number | null,
        done: (
          err: NodeJS.ErrnoException | null,
          bytes: number,
          buffers: NodeJS.ArrayBufferView[],
        ) => void,
      ) =>
        writevFd(fd, buffers, position, (err, bytes, b) => {
          landed(err, bytes)
          done(err, bytes, b)
        }),
    },
    signal: signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]),
    async failedWith(error) {
      writeEnded = true
      tail.fail(error)
      const result = await settle()
      return checkFailedFirst && result !== null ? result.error : null
    },
    async passed() {
      writeEnded = true
      tail.finish()
      const result = await settle()
      if (result !== null) return result.error
      if (!tail.complete) {
        return BlobErrors.writeFailed(ref, new Error('its check resolved before reading all of it'))
      }
      return null
    },
  }
}

/** A function, not an inline check, so narrowing does not hide a signal aborted mid-write. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err
}

function failedStream(err: Error): Readable {
  return new Readable({
    read() {
      this.destroy(err)
    },
  })
}
