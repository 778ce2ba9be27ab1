import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { KeyError, type KeyErrorCode } from '../key-error.js'
import type { OpenOptions, OpenParams } from './envelope-opener.js'
import type { SealParams } from './envelope-sealer.js'
import type {
  EnvelopeReply,
  EnvelopeRequest,
  WireError,
  WireOpenOptions,
} from './envelope-worker.js'
import type { EnvelopeDigest } from './plaintext-digest.js'

/**
 * AES-GCM of large reads off the event loop. The envelope worker (`envelope-worker.ts`) runs the
 * very same `EnvelopeOpener` on other cores, so the checks and the errors are those of the event
 * loop's path; only where the cipher runs changes. The event loop hands the worker batches of
 * up to 1.25 MiB (a blob read's 256 KiB chunks, transferred as they are, never cloned; copied
 * only when a chunk is not a buffer of its own), keeps one in flight per stream beside the one
 * it fills, and yields each batch's output in order. Every message is one wake-up of another
 * thread, which costs more than the bytes it moves: the stream opens with its first batch and
 * ends with its last, so an object of up to 1 MiB is one message each way.
 *
 * Workers: one per core beyond the first (at most 4), started on first use, holding the process
 * open only while they have work. On a single core (`availableParallelism()` is 1, e.g. under
 * `taskset -c 0`) there is no pool: posting to a thread that shares the event loop's core would
 * only add copies.
 */

/**
 * Bytes per message to a worker: a batch is sent when the next chunk would take it past this.
 * 1 MiB and a quarter, so an object of 1 MiB (its envelope is 1 MiB and 272 bytes) fits one.
 */
const BATCH = 1024 * 1024 + 256 * 1024
/** Batches a stream leaves in flight while it fills the next one (one more while it yields). */
const IN_FLIGHT = 1
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
  // Made now, not when the generator starts: the caller may zero its key once this returns.
  return outputOf(through(source, openRequest(params, wire), sourceChunksOwned))
}

/** The answers' bytes; on failure, what verified before it, then the error. */
async function* outputOf(answers: AsyncIterable<Answer>): AsyncGenerator<Buffer, void, undefined> {
  try {
    for await (const answer of answers) yield* answer.out
  } catch (err) {
    // Handed out before the error, as the event loop's opener does.
    yield* (err as { [VERIFIED_OUTPUT]?: Buffer[] })[VERIFIED_OUTPUT] ?? []
    throw err
  }
}

/**
 * The size and MD5 of the plaintext of the whole envelope read from `source` (per part, split at
 * `partSizes`; see `EnvelopeDigest`), opened and hashed on a worker thread in one job: the
 * same `EnvelopeOpener`, the same checks and `KeyError`s as `openEnvelopeOffThread`, but no
 * plaintext comes back to this thread, not even that of segments which verified before a
 * failure. With `plaintextSize`, an envelope that opens to any other size fails. `source` and
 * `sourceChunksOwned` as for `openEnvelopeOffThread`.
 */
export async function digestEnvelopeOffThread(
  source: AsyncIterable<Buffer>,
  params: OpenParams,
  options: { readonly plaintextSize?: number; readonly partSizes?: readonly number[] | null } = {},
  { sourceChunksOwned = false }: { readonly sourceChunksOwned?: boolean } = {},
): Promise<EnvelopeDigest> {
  const wire: WireOpenOptions =
    options.plaintextSize === undefined ? {} : { plaintextSize: options.plaintextSize }
  const request = openRequest(params, wire, {
    digest: { partSizes: [...(options.partSizes ?? [])] },
  })
  let digest: EnvelopeDigest | undefined
  for await (const answer of through(source, request, sourceChunksOwned)) {
    digest = answer.digest ?? digest
  }
  if (digest === undefined) throw new Error('The envelope worker sent no digest')
  return digest
}

/**
 * A new envelope of the plaintext of the whole envelope read from `source`: opened with `open`
 * (the same `EnvelopeOpener`, checks and `KeyError`s as `openEnvelopeOffThread`; with
 * `plaintextSize`, another size fails) and sealed again with `seal` (a fresh data key and the
 * new binding; `EnvelopeSealer`), both on a worker thread: ciphertext in, ciphertext out, no
 * plaintext on this thread. Yields the new envelope's bytes as they are sealed (header first);
 * on a failure, none of the segments of the batch that failed. Both keys are copied now (the
 * caller may zero its buffers once this returns). `source` and `sourceChunksOwned` as for
 * `openEnvelopeOffThread`.
 */
export function resealEnvelopeOffThread(
  source: AsyncIterable<Buffer>,
  open: OpenParams & { readonly plaintextSize?: number },
  seal: SealParams,
  { sourceChunksOwned = false }: { readonly sourceChunksOwned?: boolean } = {},
): AsyncGenerator<Buffer, void, undefined> {
  const wire: WireOpenOptions =
    open.plaintextSize === undefined ? {} : { plaintextSize: open.plaintextSize }
  const reseal = {
    dek: Uint8Array.from(seal.dek),
    binding: { ...seal.binding },
    ...(seal.segmentSize === undefined ? {} : { segmentSize: seal.segmentSize }),
  }
  return outputOf(through(source, openRequest(open, wire, { reseal }), sourceChunksOwned))
}

/**
 * What a worker stream is opened with, holding its own copy of the key (the caller may zero
 * `params.dek` once this returns); the copy is zeroed once posted.
 */
function openRequest(
  params: OpenParams,
  options: WireOpenOptions,
  job: Pick<OpenRequest, 'digest' | 'reseal'> = {},
): OpenRequest {
  return { dek: Uint8Array.from(params.dek), binding: { ...params.binding }, options, ...job }
}

/**
 * Feeds `source` to a worker stream (opened when the first answer is asked for, so a generator
 * never started leaves nothing in the worker) in batches; yields its answers in order. A batch
 * is posted when the next chunk would overfill it, so the last batch always carries the end.
 * A failed batch throws its error (carrying what verified before it, see `withOutput`).
 */
async function* through(
  source: AsyncIterable<Buffer>,
  request: OpenRequest,
  giveAway: boolean,
): AsyncGenerator<Answer, void, undefined> {
  const stream = EnvelopePool.shared().open(request)
  // Copied into the stream's first message already.
  request.dek.fill(0)
  request.reseal?.dek.fill(0)
  const inFlight: Promise<Answer>[] = []
  let batch: ArrayBuffer[] = []
  let filled = 0
  try {
    for await (const chunk of source) {
      if (chunk.length === 0) continue
      if (filled > 0 && filled + chunk.length > BATCH) {
        inFlight.push(stream.feed(batch, false))
        batch = []
        filled = 0
        // The worker opens the batch just posted while the older one's answer is handed out.
        while (inFlight.length > IN_FLIGHT) yield await (inFlight.shift() as Promise<Answer>)
      }
      // A chunk that is a buffer of its own goes to the worker as it is, without a copy.
      batch.push(giveAway && isWholeBuffer(chunk) ? (chunk.buffer as ArrayBuffer) : copyOf(chunk))
      filled += chunk.length
    }
    inFlight.push(stream.feed(batch, true))
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Answer>)
  } finally {
    stream.close()
  }
}

function isWholeBuffer(chunk: Buffer): boolean {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
}

/** A copy of `chunk` in a buffer of its own (never the shared pool's), to transfer. */
function copyOf(chunk: Buffer): ArrayBuffer {
  const copy = Buffer.allocUnsafeSlow(chunk.length)
  chunk.copy(copy)
  return copy.buffer as ArrayBuffer
}

/** A worker's answer to one batch: plaintext, or for a digesting stream's last batch the digest. */
interface Answer {
  readonly out: Buffer[]
  readonly digest?: EnvelopeDigest
}

/** One opener living in a worker. */
interface RemoteStream {
  /**
   * Sends `chunks` (their memory is given up: transferred, the caller's views become empty),
   * the stream's end when `final`; resolves to the output.
   */
  feed(chunks: ArrayBuffer[], final: boolean): Promise<Answer>
  /** Forgets the stream in the worker (idempotent; after the final feed it is already gone). */
  close(): void
}

/** What a stream is opened with (sent with its first feed). */
type OpenRequest = NonNullable<Extract<EnvelopeRequest, { op: 'feed' }>['open']>

type Waiting = {
  readonly resolve: (answer: Answer) => void
  readonly reject: (err: Error) => void
}

/**
 * The workers; a stream stays on the worker it was opened on. Digesting streams have workers of
 * their own (as many, started only when first used): a copy's read-back digests what its
 * resealing stream wrote moments before, so on one worker each would wait for the other
 * (measured: docs/benchmarks.md, transfer section, 2026-11-28 09:05-10:30).
 */
class EnvelopePool {
  static #shared: EnvelopePool | null = null

  static shared(): EnvelopePool {
    EnvelopePool.#shared ??= new EnvelopePool(Math.max(1, workerCount()))
    return EnvelopePool.#shared
  }

  readonly #lanes: Lane[]
  readonly #digestLanes: Lane[]
  #next = 0
  #nextDigest = 0
  #ids = 0

  private constructor(size: number) {
    this.#lanes = Array.from({ length: size }, () => new Lane())
    this.#digestLanes = Array.from({ length: size }, () => new Lane())
  }

  open(request: OpenRequest): RemoteStream {
    const lane = (
      request.digest === undefined
        ? this.#lanes[this.#next++ % this.#lanes.length]
        : this.#digestLanes[this.#nextDigest++ % this.#digestLanes.length]
    ) as Lane
    const id = ++this.#ids
    // Cloned into the first feed's message; the caller zeroes its copy of the key after this.
    let open: OpenRequest | undefined = {
      ...request,
      dek: Uint8Array.from(request.dek),
      ...(request.reseal === undefined
        ? {}
        : { reseal: { ...request.reseal, dek: Uint8Array.from(request.reseal.dek) } }),
    }
    let started = false
    let done = false
    return {
      feed: (chunks, final) => {
        const first = open
        open = undefined
        started = true
        done ||= final
        try {
          return lane.ask(
            { op: 'feed', id, chunks, final, ...(first === undefined ? {} : { open: first }) },
            chunks,
          )
        } finally {
          first?.dek.fill(0)
          first?.reseal?.dek.fill(0)
        }
      },
      close: () => {
        open?.dek.fill(0)
        open?.reseal?.dek.fill(0)
        open = undefined
        if (done || !started) return
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
  ): Promise<Answer> {
    const worker = this.#spawned()
    const answer = new Promise<Answer>((resolve, reject) => {
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
    const out = reply.out.map((view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength))
    if (reply.error !== undefined) waiting.reject(withOutput(fromWire(reply.error), out))
    else if (reply.digest === undefined) waiting.resolve({ out })
    else {
      const { size, digests } = reply.digest
      waiting.resolve({ out, digest: { size, digests: digests.map((d) => Buffer.from(d)) } })
    }
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
 * The bytes that verified before a failure ride on the error: `openEnvelopeOffThread` yields
 * them before it throws, as the event loop's opener hands them out before its error.
 */
function withOutput(err: Error, out: Buffer[]): Error {
  if (out.length > 0) Object.defineProperty(err, VERIFIED_OUTPUT, { value: out })
  return err
}

const VERIFIED_OUTPUT = Symbol('verified output')
