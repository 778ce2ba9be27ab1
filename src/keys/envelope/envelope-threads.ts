import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { KeyError, type KeyErrorCode } from '../key-error.js'
import type { OpenOptions, OpenParams } from './envelope-opener.js'
import type {
  EnvelopeReply,
  EnvelopeRequest,
  WireError,
  WireOpenOptions,
} from './envelope-worker.js'

/**
 * AES-GCM of large reads off the event loop. The envelope worker (`envelope-worker.ts`) runs the
 * very same `EnvelopeOpener` on other cores, so the checks and the errors are those of the event
 * loop's path; only where the cipher runs changes. The event loop hands the worker 256 KiB
 * batches (transferred, never cloned; copied into a batch only when a chunk is not a buffer of
 * its own), keeps a few in flight per stream and yields each batch's output in order.
 *
 * Workers: one per core beyond the first (at most 4), started on first use, holding the process
 * open only while they have work. On a single core (`availableParallelism()` is 1, e.g. under
 * `taskset -c 0`) there is no pool: posting to a thread that shares the event loop's core would
 * only add copies.
 */

/** Bytes per message to a worker. */
const BATCH = 256 * 1024
/** Messages in flight per stream before it waits for the oldest answer. */
const IN_FLIGHT = 2
/** Workers at most, however many cores there are. */
const MAX_WORKERS = 4

/**
 * Whether off-thread envelope crypto is worth it here: true when this process may use more than
 * one core. Callers still choose per object (small objects stay on the event loop).
 */
export function envelopeThreadsAvailable(): boolean {
  return workerCount() > 0
}

function workerCount(): number {
  return Math.min(MAX_WORKERS, Math.max(0, availableParallelism() - 1))
}

/**
 * The plaintext of an envelope read from `source`, opened on a worker thread by the same
 * `EnvelopeOpener` (whole object or range, as `OpenOptions` say). Failures are the opener's
 * `KeyError`s ('IntegrityFailure' with dc, bucket, key, part and segment); the plaintext of
 * segments that verified before a failing one is yielded first, as on the event loop. With
 * `sourceChunksOwned` (a stream this code created, e.g. a blob read, whose chunks nobody else
 * holds) chunks that are whole buffers are transferred to the worker without a copy, which
 * empties them on this side.
 */
export function openEnvelopeOffThread(
  source: AsyncIterable<Buffer>,
  params: OpenParams,
  options: OpenOptions = {},
  { sourceChunksOwned = false }: { readonly sourceChunksOwned?: boolean } = {},
): AsyncGenerator<Buffer, void, undefined> {
  const wire: WireOpenOptions =
    options.range === undefined
      ? options
      : {
          range: options.range,
          plaintextSize: options.plaintextSize,
          header: Uint8Array.from(options.header),
        }
  const dek = Uint8Array.from(params.dek)
  const binding = { ...params.binding }
  return through(
    source,
    () => {
      const opened = EnvelopePool.shared().open({ op: 'open', dek, binding, options: wire })
      dek.fill(0) // posted (cloned) already
      return opened
    },
    sourceChunksOwned,
  )
}

/**
 * Feeds `source` to a worker stream (opened when the first output is asked for, so a generator
 * never started leaves nothing in the worker) in batches; yields its answers in order.
 */
async function* through(
  source: AsyncIterable<Buffer>,
  openStream: () => RemoteStream,
  giveAway = false,
): AsyncGenerator<Buffer, void, undefined> {
  const stream = openStream()
  const inFlight: Promise<Buffer[]>[] = []
  let batch: Buffer | null = null
  let filled = 0
  try {
    for await (const chunk of source) {
      if (giveAway && filled === 0 && isWholeBuffer(chunk) && chunk.length >= BATCH / 4) {
        // A chunk that is a buffer of its own goes to the worker as it is, without a copy.
        inFlight.push(stream.update(chunk, chunk.length))
        if (inFlight.length > IN_FLIGHT) yield* settled(inFlight.shift() as Promise<Buffer[]>)
        continue
      }
      let at = 0
      while (at < chunk.length) {
        batch ??= Buffer.allocUnsafeSlow(BATCH)
        const n = Math.min(chunk.length - at, BATCH - filled)
        chunk.copy(batch, filled, at, at + n)
        filled += n
        at += n
        if (filled === BATCH) {
          inFlight.push(stream.update(batch, filled))
          batch = null
          filled = 0
          if (inFlight.length > IN_FLIGHT) yield* settled(inFlight.shift() as Promise<Buffer[]>)
        }
      }
    }
    if (batch !== null && filled > 0) inFlight.push(stream.update(batch, filled))
    inFlight.push(stream.final())
    while (inFlight.length > 0) yield* settled(inFlight.shift() as Promise<Buffer[]>)
  } finally {
    stream.close()
  }
}

function isWholeBuffer(chunk: Buffer): boolean {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
}

/** A batch's output, if any; on failure, what verified before it, then the error. */
async function* settled(answer: Promise<Buffer[]>): AsyncGenerator<Buffer, void, undefined> {
  let out: Buffer[]
  try {
    out = await answer
  } catch (err) {
    const verified = (err as { [VERIFIED_OUTPUT]?: Buffer[] })[VERIFIED_OUTPUT]
    if (verified !== undefined) yield* verified
    throw err
  }
  yield* out
}

/** One opener living in a worker. */
interface RemoteStream {
  /**
   * Sends `length` bytes of `batch`, whose memory the caller gives up (it is transferred: the
   * caller's view becomes empty); resolves to the output.
   */
  update(batch: Buffer, length: number): Promise<Buffer[]>
  /** Ends the input; resolves to the last output. */
  final(): Promise<Buffer[]>
  /** Forgets the stream in the worker (idempotent; after `final` it is already gone). */
  close(): void
}

/** An `open` request before the pool gives it a stream id. */
type OpenRequest = Omit<Extract<EnvelopeRequest, { op: 'open' }>, 'id'>

type Waiting = {
  readonly resolve: (out: Buffer[]) => void
  readonly reject: (err: Error) => void
}

/** The workers; a stream stays on the worker it was opened on. */
class EnvelopePool {
  static #shared: EnvelopePool | null = null

  static shared(): EnvelopePool {
    EnvelopePool.#shared ??= new EnvelopePool(Math.max(1, workerCount()))
    return EnvelopePool.#shared
  }

  readonly #lanes: Lane[]
  #next = 0
  #ids = 0

  private constructor(size: number) {
    this.#lanes = Array.from({ length: size }, () => new Lane())
  }

  open(request: OpenRequest): RemoteStream {
    const lane = this.#lanes[this.#next++ % this.#lanes.length] as Lane
    const id = ++this.#ids
    lane.post({ ...request, id })
    let done = false
    return {
      update: (batch, length) => {
        const ab = batch.buffer as ArrayBuffer
        return lane.ask({ op: 'update', id, chunk: ab, length }, [ab])
      },
      final: () => {
        done = true
        return lane.ask({ op: 'final', id })
      },
      close: () => {
        if (done) return
        done = true
        lane.post({ op: 'destroy', id })
      },
    }
  }
}

/** One worker thread, restarted on next use if it dies. */
class Lane {
  #worker: Worker | null = null
  /** Answers awaited, per stream, in the order asked. */
  readonly #waiting = new Map<number, Waiting[]>()
  #pending = 0

  post(request: EnvelopeRequest, transfer: ArrayBuffer[] = []): void {
    this.#spawned().postMessage(request, transfer)
  }

  ask(
    request: EnvelopeRequest & { readonly id: number },
    transfer: ArrayBuffer[] = [],
  ): Promise<Buffer[]> {
    const worker = this.#spawned()
    const answer = new Promise<Buffer[]>((resolve, reject) => {
      const queue = this.#waiting.get(request.id)
      if (queue === undefined) this.#waiting.set(request.id, [{ resolve, reject }])
      else queue.push({ resolve, reject })
    })
    // A batch rejected while the stream awaits an earlier one is still awaited later.
    answer.catch(() => undefined)
    if (this.#pending++ === 0) worker.ref()
    worker.postMessage(request, transfer)
    return answer
  }

  #spawned(): Worker {
    if (this.#worker !== null) return this.#worker
    const worker = spawnWorker()
    worker.unref()
    worker.on('message', (reply: EnvelopeReply) => this.#answer(reply))
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = null
      const waiting = [...this.#waiting.values()].flat()
      this.#waiting.clear()
      this.#pending = 0
      for (const w of waiting) w.reject(err)
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`The envelope worker exited (code ${code})`)))
    this.#worker = worker
    return worker
  }

  #answer(reply: EnvelopeReply): void {
    const queue = this.#waiting.get(reply.id)
    const waiting = queue?.shift()
    if (queue !== undefined && queue.length === 0) this.#waiting.delete(reply.id)
    if (--this.#pending === 0) this.#worker?.unref()
    if (waiting === undefined) return
    const out = reply.out.map((ab) => Buffer.from(ab))
    if (reply.error === undefined) waiting.resolve(out)
    else waiting.reject(withOutput(fromWire(reply.error), out))
  }
}

/**
 * The worker's module: the compiled `.js` beside this file or, when this file runs as TypeScript
 * (tests, `tsx`), the `.ts` source, loaded after registering tsx's hooks in the worker (a
 * worker's `execArgv` cannot carry `--import`).
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./envelope-worker.js', import.meta.url))
  const source = new URL('./envelope-worker.ts', import.meta.url).href
  // tsx's ESM API (`tsx/esm/api`, import condition) sits beside its CommonJS build.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source)}) })`
  return new Worker(boot, { eval: true })
}

function fromWire(error: WireError): Error {
  if (error.code === undefined) return new Error(error.message)
  return new KeyError(error.code as KeyErrorCode, error.message, { details: error.details ?? {} })
}

/**
 * The bytes that verified before a failure ride on the error: `through` yields them before it
 * throws, as the event loop's opener hands them out before its error.
 */
function withOutput(err: Error, out: Buffer[]): Error {
  if (out.length > 0) Object.defineProperty(err, VERIFIED_OUTPUT, { value: out })
  return err
}

const VERIFIED_OUTPUT = Symbol('verified output')
