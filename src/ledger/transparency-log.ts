import { createLogger, type Logger } from '../core/index.js'
import { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.js'
import { bytesEqual } from './encoding.js'
import { integrate, type TileFetcher, tileNodeFetcher } from './integrate.js'
import { LedgerError, LedgerErrors } from './ledger-error.js'
import { consistencyProof, inclusionProof } from './merkle/proofs.js'
import { emptyRoot, leafHash } from './merkle/rfc6962.js'
import { type NoteSigner, parseNote, signNote } from './note/signed-note.js'
import type { IoOptions, LedgerStorage, TreeState } from './storage/ledger-storage.js'
import {
  decodeEntryBundle,
  entryBundleUpdates,
  MAX_ENTRY_SIZE,
  TILE_WIDTH,
  tileWidth,
} from './tiles.js'
import type { Worker, WorkerStatus } from './worker.js'

/** Options of `openLog`. */
export interface OpenLogOptions {
  /** Where the log lives; the log becomes its only writer. */
  readonly storage: LedgerStorage
  /** Signs checkpoints (Ed25519, key name should equal the origin). */
  readonly signer: NoteSigner
  /** The checkpoint origin line, e.g. `sovra.example/ledger/us-west-1`. */
  readonly origin: string
  readonly logger?: Logger
  /** A group commit sequences at most this many entries in one durable write. */
  readonly batchMaxSize: number
  /** An append waits at most this long for others to share its write when the log is idle. */
  readonly batchMaxDelayMs: number
  /** Appends are refused (`Pushback`) once this many entries await integration. */
  readonly maxPending: number
  /** Entries one integration step takes at most (default 4096). */
  readonly integrateMaxEntries?: number
  /** Pause between integration steps while the backlog is small (default 100 ms). */
  readonly integrateIntervalMs?: number
  /** Start the integration worker at open (default true). */
  readonly startWorker?: boolean
  /** Called after each checkpoint is published (durably written); must not throw. */
  readonly onPublish?: (checkpoint: PublishedCheckpoint) => void
}

/** A published checkpoint: the signed note and its parsed body. */
export interface PublishedCheckpoint {
  readonly note: string
  readonly checkpoint: Checkpoint
}

/** One append-only transparency log (sequence → integrate → publish, as Tessera). */
export interface TransparencyLog {
  readonly origin: string
  /** The background integrator/publisher. */
  readonly worker: Worker
  /**
   * Appends an entry (≤ 65535 bytes) and resolves with its index once it is durably sequenced:
   * it survives a crash and will be integrated, but may not be in a checkpoint yet. Concurrent
   * appends share one durable write (group commit). Rejects with `Pushback` when `maxPending`
   * entries already wait for integration.
   */
  append(entry: Uint8Array, options?: IoOptions): Promise<{ index: number }>
  /** The latest published checkpoint. */
  checkpoint(): PublishedCheckpoint
  /** Resolves once everything appended before the call is integrated and checkpointed. */
  sync(options?: IoOptions): Promise<PublishedCheckpoint>
  /** Inclusion proof of entry `index` in the tree of `size` (≤ the integrated size). */
  inclusionProof(index: number, size: number, options?: IoOptions): Promise<Uint8Array[]>
  /** Consistency proof from `size1` to `size2` (≤ the integrated size); empty when size1 is 0. */
  consistencyProof(size1: number, size2: number, options?: IoOptions): Promise<Uint8Array[]>
  /** Entry `index` of the integrated tree. */
  readEntry(index: number, options?: IoOptions): Promise<Uint8Array>
  /** Flushes waiting appends, stops the worker and closes the storage. */
  close(): Promise<void>
}

interface Waiter {
  readonly resolve: (index: number) => void
  readonly reject: (error: unknown) => void
}

/**
 * Opens a log over `storage`: reads the integrated tree, re-publishes a checkpoint if the last
 * one is missing or behind (crash between integration and publishing), and starts the worker,
 * which integrates whatever was sequenced but not integrated before a crash.
 */
export async function openLog(options: OpenLogOptions): Promise<TransparencyLog> {
  for (const key of ['batchMaxSize', 'batchMaxDelayMs', 'maxPending'] as const) {
    const value = options[key]
    if (!Number.isSafeInteger(value) || value < (key === 'batchMaxDelayMs' ? 0 : 1)) {
      throw LedgerErrors.configInvalid(key, `is ${value}, not a positive integer`)
    }
  }
  const log = new Log(options)
  await log.init()
  if (options.startWorker !== false) log.worker.start()
  return log
}

class Log implements TransparencyLog {
  readonly origin: string
  readonly worker: Worker
  readonly #storage: LedgerStorage
  readonly #signer: NoteSigner
  readonly #logger: Logger
  readonly #options: OpenLogOptions
  #tree: TreeState = { size: 0, root: emptyRoot() }
  #published: PublishedCheckpoint | undefined
  #batch: Uint8Array[] = []
  #waiters: Waiter[] = []
  #inFlight = 0
  #flushing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #syncWaiters: Array<{ size: number; resolve: (cp: PublishedCheckpoint) => void }> = []
  // Worker state.
  #running = false
  #busy = false
  #lastError: string | undefined
  #wake: (() => void) | undefined
  /** Ends the pacing pause early (stop, or a caller waiting in sync()). */
  #pauseWake: (() => void) | undefined
  #loop: Promise<void> | undefined

  constructor(options: OpenLogOptions) {
    this.origin = options.origin
    this.#storage = options.storage
    this.#signer = options.signer
    this.#logger = (options.logger ?? createLogger('silent')).child({ ledger: options.origin })
    this.#options = options
    const name = `ledger-integrator:${options.origin}`
    this.worker = {
      name,
      start: () => this.#start(),
      stop: () => this.#stop(),
      status: (): WorkerStatus => {
        const lastError = this.#lastError === undefined ? {} : { lastError: this.#lastError }
        const sequenced = this.#storage.sequencedSize()
        const progress = {
          integrated: this.#tree.size,
          sequenced,
          pending: sequenced - this.#tree.size,
        }
        if (!this.#running) return { state: 'stopped', name, progress, ...lastError }
        return { state: this.#busy ? 'busy' : 'idle', name, progress, ...lastError }
      },
    }
  }

  async init(): Promise<void> {
    this.#tree = (await this.#storage.readTreeState()) ?? { size: 0, root: emptyRoot() }
    const note = await this.#storage.readCheckpoint()
    if (note !== undefined) {
      const checkpoint = parseCheckpoint(parseNote(note).text)
      if (checkpoint.origin !== this.origin) {
        throw LedgerErrors.configInvalid(
          'origin',
          `"${this.origin}" does not match the stored "${checkpoint.origin}"`,
        )
      }
      if (checkpoint.size > BigInt(this.#tree.size)) {
        throw LedgerErrors.corrupt(
          'the checkpoint',
          `size ${checkpoint.size} is ahead of the tree (${this.#tree.size})`,
        )
      }
      this.#published = { note, checkpoint }
    }
    const cp = this.#published?.checkpoint
    if (
      cp === undefined ||
      cp.size !== BigInt(this.#tree.size) ||
      !bytesEqual(cp.root, this.#tree.root)
    ) {
      await this.#publish()
    }
  }

  append(entry: Uint8Array, options: IoOptions = {}): Promise<{ index: number }> {
    if (this.#closed) return Promise.reject(LedgerErrors.closed(this.origin))
    if (options.signal?.aborted)
      return Promise.reject(LedgerErrors.aborted('append an entry', options.signal.reason))
    if (entry.byteLength > MAX_ENTRY_SIZE)
      return Promise.reject(LedgerErrors.entryTooLarge(entry.byteLength))
    const pending =
      this.#storage.sequencedSize() - this.#tree.size + this.#inFlight + this.#batch.length
    if (pending >= this.#options.maxPending) {
      return Promise.reject(LedgerErrors.pushback(this.origin, pending, this.#options.maxPending))
    }
    return new Promise<{ index: number }>((resolve, reject) => {
      this.#batch.push(entry.slice())
      this.#waiters.push({ resolve: (index) => resolve({ index }), reject })
      if (this.#batch.length >= this.#options.batchMaxSize) this.#flush()
      else this.#timer ??= setTimeout(() => this.#flush(), this.#options.batchMaxDelayMs)
    })
  }

  /** Sequences the waiting batch; appends arriving meanwhile form the next batch (group commit). */
  #flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#flushing !== undefined || this.#batch.length === 0) return
    const max = this.#options.batchMaxSize
    const entries = this.#batch.splice(0, max)
    const waiters = this.#waiters.splice(0, max)
    this.#inFlight = entries.length
    this.#flushing = this.#storage.sequence(entries).then(
      (first) => {
        this.#inFlight = 0
        waiters.forEach((w, i) => {
          w.resolve(first + i)
        })
        this.#wake?.()
      },
      (error: unknown) => {
        this.#inFlight = 0
        this.#logger.error(
          { err: error, entries: entries.length },
          'Cannot sequence ledger entries',
        )
        for (const w of waiters) w.reject(error)
      },
    )
    void this.#flushing.finally(() => {
      this.#flushing = undefined
      if (this.#batch.length > 0) this.#flush()
    })
  }

  checkpoint(): PublishedCheckpoint {
    if (this.#published === undefined)
      throw LedgerErrors.notFound(`the checkpoint of "${this.origin}"`)
    return this.#published
  }

  async sync(options: IoOptions = {}): Promise<PublishedCheckpoint> {
    if (this.#closed) throw LedgerErrors.closed(this.origin)
    this.#flush()
    while (this.#flushing !== undefined) await this.#flushing
    const size = this.#storage.sequencedSize()
    const published = this.#published
    if (published !== undefined && published.checkpoint.size >= BigInt(size)) return published
    if (!this.#running) {
      throw LedgerErrors.outOfRange(
        `sync ledger "${this.origin}"`,
        'its integration worker is stopped',
      )
    }
    return new Promise<PublishedCheckpoint>((resolve, reject) => {
      const onAbort = () =>
        reject(LedgerErrors.aborted(`sync ledger "${this.origin}"`, options.signal?.reason))
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.#syncWaiters.push({
        size,
        resolve: (cp) => {
          options.signal?.removeEventListener('abort', onAbort)
          resolve(cp)
        },
      })
      this.#wake?.()
      this.#pauseWake?.()
    })
  }

  async inclusionProof(
    index: number,
    size: number,
    options: IoOptions = {},
  ): Promise<Uint8Array[]> {
    const tree = this.#tree
    if (
      !(
        Number.isSafeInteger(index) &&
        Number.isSafeInteger(size) &&
        index >= 0 &&
        index < size &&
        size <= tree.size
      )
    ) {
      throw LedgerErrors.outOfRange(
        `prove entry ${index} in tree size ${size}`,
        `the integrated tree has ${tree.size} entries`,
      )
    }
    return inclusionProof({
      index,
      size,
      getNodes: tileNodeFetcher({ size, getTiles: this.#tilesAt(tree.size, options) }),
    })
  }

  async consistencyProof(
    size1: number,
    size2: number,
    options: IoOptions = {},
  ): Promise<Uint8Array[]> {
    const tree = this.#tree
    if (
      !(
        Number.isSafeInteger(size1) &&
        Number.isSafeInteger(size2) &&
        size1 >= 0 &&
        size1 <= size2 &&
        size2 <= tree.size
      )
    ) {
      throw LedgerErrors.outOfRange(
        `prove consistency from ${size1} to ${size2}`,
        `the integrated tree has ${tree.size} entries`,
      )
    }
    if (size1 === 0) return []
    return consistencyProof({
      size1,
      size2,
      getNodes: tileNodeFetcher({ size: size2, getTiles: this.#tilesAt(tree.size, options) }),
    })
  }

  async readEntry(index: number, options: IoOptions = {}): Promise<Uint8Array> {
    const size = this.#tree.size
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw LedgerErrors.outOfRange(
        `read entry ${index}`,
        `the integrated tree has ${size} entries`,
      )
    }
    const bundleIndex = Math.floor(index / TILE_WIDTH)
    const width = tileWidth(0, bundleIndex, size)
    const bytes = await this.#storage.readEntryBundle(bundleIndex, width, options)
    if (bytes === undefined)
      throw LedgerErrors.notFound(`entry bundle ${bundleIndex} (width ${width})`)
    const entry = decodeEntryBundle(bytes)[index % TILE_WIDTH]
    if (entry === undefined)
      throw LedgerErrors.corrupt(`entry bundle ${bundleIndex}`, `it lacks entry ${index}`)
    return entry
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#flush()
    while (this.#flushing !== undefined) await this.#flushing
    this.#closed = true
    await this.#stop()
    await this.#storage.close()
  }

  /**
   * Tiles as they are in the tree of `current` leaves: a proof for an older size reads the
   * current (wider) tile, whose first hashes are the same, since tiles only grow.
   */
  #tilesAt(current: number, options: IoOptions): TileFetcher {
    return (requests) =>
      Promise.all(
        requests.map((r) =>
          this.#storage.readTile(r.level, r.index, tileWidth(r.level, r.index, current), options),
        ),
      )
  }

  #start(): void {
    if (this.#running || this.#closed) return
    this.#running = true
    this.#loop = this.#runLoop()
  }

  async #stop(): Promise<void> {
    this.#running = false
    this.#wake?.()
    this.#pauseWake?.()
    await this.#loop
    this.#loop = undefined
  }

  async #runLoop(): Promise<void> {
    let backoffMs = 10
    while (this.#running) {
      const hasWork = this.#storage.sequencedSize() > this.#tree.size
      if (!hasWork) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
        this.#wake = undefined
        continue
      }
      this.#busy = true
      try {
        await this.#integrateStep()
        this.#lastError = undefined
        backoffMs = 10
        // Integration rewrites tiles and the checkpoint durably; pacing it lets one step cover
        // many appends instead of competing with them for the disk after every batch.
        const pause = this.#options.integrateIntervalMs ?? 100
        if (
          pause > 0 &&
          this.#running &&
          this.#storage.sequencedSize() - this.#tree.size <
            (this.#options.integrateMaxEntries ?? 4096)
        ) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, pause)
            this.#pauseWake = () => {
              clearTimeout(t)
              resolve()
            }
          })
          this.#pauseWake = undefined
        }
      } catch (error) {
        this.#lastError = error instanceof Error ? error.message : String(error)
        this.#logger.error({ err: error }, 'Cannot integrate ledger entries')
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoffMs)
          this.#wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
        this.#wake = undefined
        backoffMs = Math.min(backoffMs * 2, 5_000)
      } finally {
        this.#busy = false
      }
    }
  }

  /** Integrate: read waiting entries → tiles and bundles → tree state; then publish. */
  async #integrateStep(): Promise<void> {
    const from = this.#tree.size
    const entries = await this.#storage.readSequenced(
      from,
      this.#options.integrateMaxEntries ?? 4096,
    )
    if (entries.length === 0) return
    const result = await integrate({
      getTiles: (requests) =>
        Promise.all(requests.map((r) => this.#storage.readTile(r.level, r.index, r.width))),
      fromSize: from,
      leafHashes: entries.map(leafHash),
    })
    const edgeWidth = from % TILE_WIDTH
    let edgeEntries: Uint8Array[] = []
    if (edgeWidth > 0) {
      const bytes = await this.#storage.readEntryBundle(Math.floor(from / TILE_WIDTH), edgeWidth)
      if (bytes === undefined) throw LedgerErrors.notFound(`the entry bundle at ${from}`)
      edgeEntries = decodeEntryBundle(bytes)
    }
    const bundles = entryBundleUpdates({ fromSize: from, edgeEntries, entries })
    const state = { size: result.size, root: result.root }
    await this.#storage.commitIntegration({ tiles: result.tiles, bundles, state })
    this.#tree = state
    this.#lastError = undefined
    this.#logger.debug({ from, size: state.size }, 'Integrated ledger entries')
    await this.#publish()
  }

  /** Signs and writes a checkpoint of the integrated tree; then releases `sync` waiters. */
  async #publish(): Promise<void> {
    const checkpoint: Checkpoint = {
      origin: this.origin,
      size: BigInt(this.#tree.size),
      root: this.#tree.root,
      extensions: [],
    }
    const note = signNote(formatCheckpoint(checkpoint), [this.#signer])
    await this.#storage.writeCheckpoint(note)
    const published = { note, checkpoint }
    this.#published = published
    const ready = this.#syncWaiters.filter((w) => w.size <= this.#tree.size)
    this.#syncWaiters = this.#syncWaiters.filter((w) => w.size > this.#tree.size)
    for (const w of ready) w.resolve(published)
    this.#options.onPublish?.(published)
  }
}

/** True when `err` is the pushback error of a full ledger (callers map it to 503 SlowDown). */
export function isPushback(err: unknown): err is LedgerError {
  return err instanceof LedgerError && err.code === 'Pushback'
}
