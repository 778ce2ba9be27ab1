import { createHash } from 'node:crypto'
import { Worker } from 'node:worker_threads'

/**
 * Hashes (MD5, SHA-256) computed on a worker thread, so that a large copy's hashing runs on the
 * machine's second core while the event loop decrypts and encrypts. One worker per process,
 * started on first use and unreferenced (it never keeps the process alive); hashes of several
 * copies share it. Chunks are copied once into a slot of a memory block shared with the worker
 * (a `SharedArrayBuffer` of `SLOTS` MiB, made once), so the caller may reuse or keep its own
 * chunk, and the messages carry only slot numbers.
 *
 * Why shared slots and not transferred buffers: every `ArrayBuffer` that comes back from a
 * transfer is a new one to V8, and a pooled one lives long enough to reach the old generation;
 * with ~1 GiB of such buffers per GiB hashed, V8's external-memory accounting started a full
 * (mark-compact) collection every ~64 MiB and the same copy cost twice the CPU
 * (docs/benchmarks.md, "Transfer benchmark (issue 5)", 2026-11-28 03:30 UTC).
 */

/** What the copier hashes with: node:crypto's `Hash` subset, finished asynchronously. */
export interface StreamHash {
  update(chunk: Buffer): void
  /** The digest; the hash cannot be used afterwards. */
  digest(): Promise<Buffer>
  /** Drops an unfinished hash (a failed copy). */
  discard(): void
  /**
   * Resolves when the hash can take more bytes without queueing more than a few MiB for the
   * worker: a producer faster than the hash awaits it between chunks (backpressure).
   */
  ready(): Promise<void>
}

/** The hash algorithms the worker computes. */
export type HashAlgorithm = 'md5' | 'sha256'

/** A hash on this thread (small objects: posting to a worker costs more than hashing). */
export function localHash(algorithm: HashAlgorithm): StreamHash {
  const hash = createHash(algorithm)
  return {
    update: (chunk) => {
      hash.update(chunk)
    },
    digest: async () => hash.digest(),
    discard: () => undefined,
    ready: () => READY,
  }
}

const READY = Promise.resolve()

/** A hash computed on the shared hashing worker. */
export function offThreadHash(algorithm: HashAlgorithm): StreamHash {
  return HashWorker.shared().open(algorithm)
}

// Plain JavaScript run by the worker (eval: no build step, works from src/ and dist/ alike).
// An update names a slot of the shared block (answered with the slot, free again) or, when no
// slot was free, carries its own transferred buffer (answered with slot -1).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const shared = workerData.shared
const batch = workerData.batch
const hashes = new Map()
parentPort.on('message', (m) => {
  if (m.op === 'open') hashes.set(m.id, createHash(m.algorithm))
  else if (m.op === 'update') {
    const bytes = m.slot >= 0
      ? new Uint8Array(shared, m.slot * batch, m.length)
      : new Uint8Array(m.chunk, 0, m.length)
    hashes.get(m.id).update(bytes)
    parentPort.postMessage(m.slot)
  }
  else if (m.op === 'discard') hashes.delete(m.id)
  else if (m.op === 'digest') {
    const digest = hashes.get(m.id).digest()
    hashes.delete(m.id)
    const out = new Uint8Array(digest.length)
    out.set(digest)
    parentPort.postMessage({ id: m.id, digest: out.buffer }, [out.buffer])
  }
})
`

/** Bytes per message to the worker (one slot). */
const BATCH = 1024 * 1024
/**
 * Slots of the shared block: up to `MAX_QUEUED` waiting for the worker, plus one being filled
 * by each hash in progress (8 objects in flight). A hash that finds none free fills a buffer of
 * its own, transferred to the worker (the rare case).
 */
const SLOTS = 16
/** Batches sent and not yet hashed beyond which `ready()` waits. */
const MAX_QUEUED = 8

type Pending = { resolve: (digest: Buffer) => void; reject: (err: unknown) => void }

class HashWorker {
  static #shared: HashWorker | null = null

  static shared(): HashWorker {
    HashWorker.#shared ??= new HashWorker()
    return HashWorker.#shared
  }

  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  readonly #block = new SharedArrayBuffer(SLOTS * BATCH)
  /** Slots not being filled nor hashed. */
  readonly #free: number[] = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i)
  /** Batches posted and not yet hashed, and producers waiting for that number to fall. */
  #queued = 0
  #waiting: Array<() => void> = []
  #next = 0
  #failed: Error | null = null

  private constructor() {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { shared: this.#block, batch: BATCH },
    })
    this.#worker.unref()
    this.#worker.on('message', (m: number | { id: number; digest: ArrayBuffer }) => {
      if (typeof m === 'number') {
        // Hashed: the slot can be filled again (no new buffer, nothing for the GC).
        if (m >= 0) this.#free.push(m)
        this.#queued--
        this.#wake()
        return
      }
      const waiting = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (this.#pending.size === 0) this.#worker.unref()
      waiting?.resolve(Buffer.from(m.digest))
    })
    const fail = (err: Error) => {
      this.#failed = err
      if (HashWorker.#shared === this) HashWorker.#shared = null
      for (const waiting of this.#pending.values()) waiting.reject(err)
      this.#pending.clear()
      this.#queued = 0
      this.#wake()
    }
    this.#worker.on('error', fail)
    this.#worker.on('exit', (code) => fail(new Error(`The hashing worker exited (code ${code})`)))
  }

  open(algorithm: HashAlgorithm): StreamHash {
    const id = this.#next++
    this.#post({ op: 'open', id, algorithm })
    let done = false
    /** The batch being filled: a shared slot (`slot` ≥ 0) or a buffer of its own (-1). */
    let batch: Uint8Array | null = null
    let slot = -1
    let filled = 0
    const flush = () => {
      if (batch === null || filled === 0) return
      if (slot >= 0) {
        this.#post({ op: 'update', id, slot, length: filled })
      } else {
        const own = batch.buffer as ArrayBuffer
        this.#post({ op: 'update', id, slot, chunk: own, length: filled }, [own])
      }
      this.#queued++
      batch = null
      slot = -1
      filled = 0
    }
    const release = () => {
      // A slot filled but never sent (a discarded or failed hash) is free again.
      if (slot >= 0) this.#free.push(slot)
      batch = null
      slot = -1
      filled = 0
    }
    return {
      update: (chunk) => {
        if (done) throw new Error('Cannot update a finished hash')
        for (let offset = 0; offset < chunk.length; ) {
          if (batch === null) {
            slot = this.#failed === null ? (this.#free.pop() ?? -1) : -1
            batch =
              slot >= 0 ? new Uint8Array(this.#block, slot * BATCH, BATCH) : new Uint8Array(BATCH)
          }
          const take = Math.min(chunk.length - offset, BATCH - filled)
          batch.set(chunk.subarray(offset, offset + take), filled)
          filled += take
          offset += take
          if (filled === BATCH) flush()
        }
      },
      digest: () => {
        done = true
        flush()
        return new Promise<Buffer>((resolve, reject) => {
          if (this.#failed !== null) {
            reject(this.#failed)
            return
          }
          // Only while a digest is awaited does the worker keep the process alive.
          if (this.#pending.size === 0) this.#worker.ref()
          this.#pending.set(id, { resolve, reject })
          this.#post({ op: 'digest', id })
        })
      },
      discard: () => {
        if (done) return
        done = true
        release()
        this.#post({ op: 'discard', id })
      },
      ready: () => this.#ready(),
    }
  }

  #ready(): Promise<void> {
    if (this.#queued < MAX_QUEUED || this.#failed !== null) return READY
    return new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  #wake(): void {
    if (this.#queued >= MAX_QUEUED && this.#failed === null) return
    const waiting = this.#waiting
    this.#waiting = []
    for (const resolve of waiting) resolve()
  }

  #post(message: object, transfer?: ArrayBuffer[]): void {
    if (this.#failed === null) this.#worker.postMessage(message, transfer)
  }
}
