import { parentPort } from 'node:worker_threads'
import { KeyError } from '../key-error.js'
import type { EnvelopeBinding } from './envelope-format.js'
import { EnvelopeOpener, type OpenOptions } from './envelope-opener.js'
import { EnvelopeSealer } from './envelope-sealer.js'
import { PlaintextDigest } from './plaintext-digest.js'

/**
 * The envelope worker: runs the same `EnvelopeOpener` as the event loop, on another thread, for
 * the streams `envelope-threads.ts` hands it. Each `feed` gets exactly one answer, in order; its
 * output buffers are transferred, never cloned. A stream is opened by its first `feed` and ends
 * with the one marked `final`, so a small object costs one message each way. A stream opened
 * with `digest` hashes its plaintext here instead of sending it: its answers carry no bytes, and
 * the final one the size and MD5s (`PlaintextDigest`). A stream opened with `reseal` seals its
 * plaintext here again, under another key and binding (`EnvelopeSealer`), and sends back the new
 * envelope instead: ciphertext in, ciphertext out.
 */

/** What the event loop asks of the worker. */
export type EnvelopeRequest =
  | {
      readonly op: 'feed'
      readonly id: number
      /** Present on a stream's first feed only: what to open it with. */
      readonly open?: {
        readonly dek: Uint8Array
        readonly binding: EnvelopeBinding
        readonly options: WireOpenOptions
        /** Digest the plaintext here (split at these part sizes) and send none of it back. */
        readonly digest?: { readonly partSizes: readonly number[] | null }
        /** Seal the plaintext here into a new envelope and send that back instead. */
        readonly reseal?: {
          readonly dek: Uint8Array
          readonly binding: EnvelopeBinding
          readonly segmentSize?: number
        }
      }
      /** Envelope bytes, in order; each a whole buffer, transferred. */
      readonly chunks: readonly ArrayBuffer[]
      /** No bytes follow: check the envelope is complete and forget the stream. */
      readonly final: boolean
    }
  | { readonly op: 'destroy'; readonly id: number }

/** `OpenOptions` as it crosses threads (a Buffer arrives as a plain Uint8Array). */
export type WireOpenOptions =
  | { readonly range?: undefined; readonly plaintextSize?: number }
  | {
      readonly range: { readonly start: number; readonly end: number }
      readonly plaintextSize: number
      readonly header: Uint8Array
    }

/** The worker's answer to a `feed`: the bytes ready, and the error if it failed. */
export interface EnvelopeReply {
  readonly id: number
  /**
   * Output bytes, in order (may be none); with an error, the bytes that verified before it.
   * Views of transferred buffers: often of the very chunks the feed sent, opened in place.
   */
  readonly out: Uint8Array[]
  /** A digesting stream's final answer: plaintext size and MD5s (`EnvelopeDigest`). */
  readonly digest?: { readonly size: number; readonly digests: readonly Uint8Array[] }
  readonly error?: WireError
}

/** An error as it crosses threads: a `KeyError`'s code, message and details, or a plain message. */
export interface WireError {
  readonly code?: string
  readonly message: string
  readonly details?: Record<string, string>
}

/**
 * A stream in this worker: its opener and, for a digesting stream, what hashes the plaintext, for
 * a resealing one, what seals it again.
 */
interface Stream {
  readonly opener: EnvelopeOpener
  readonly digest: PlaintextDigest | null
  readonly sealer: EnvelopeSealer | null
}

const streams = new Map<number, Stream>()

/** What a stream's first feed opens it with. */
type OpenRequest = NonNullable<Extract<EnvelopeRequest, { op: 'feed' }>['open']>

function opened(open: OpenRequest): Stream {
  return {
    opener: openerOf(open),
    digest: open.digest === undefined ? null : new PlaintextDigest(open.digest.partSizes),
    sealer: open.reseal === undefined ? null : sealerOf(open.reseal),
  }
}

function sealerOf(reseal: NonNullable<OpenRequest['reseal']>): EnvelopeSealer {
  const dek = Buffer.from(reseal.dek.buffer, reseal.dek.byteOffset, reseal.dek.byteLength)
  try {
    // Its plaintext is what the opener decrypted in place: this worker's own memory.
    return new EnvelopeSealer(
      {
        dek,
        binding: reseal.binding,
        ...(reseal.segmentSize === undefined ? {} : { segmentSize: reseal.segmentSize }),
      },
      { chunksOwned: true },
    )
  } finally {
    dek.fill(0)
  }
}

function openerOf(open: OpenRequest): EnvelopeOpener {
  const dek = Buffer.from(open.dek.buffer, open.dek.byteOffset, open.dek.byteLength)
  try {
    const o = open.options
    const options: OpenOptions =
      o.range === undefined
        ? o
        : { range: o.range, plaintextSize: o.plaintextSize, header: Buffer.from(o.header) }
    // Every chunk a feed brings was transferred or cloned to this thread: it is ours to reuse.
    return new EnvelopeOpener({ dek, binding: open.binding }, options, { chunksOwned: true })
  } finally {
    dek.fill(0)
  }
}

/** An answer and the buffers its views live in, to transfer with it. */
interface Answer {
  readonly reply: EnvelopeReply
  readonly transfer: ArrayBuffer[]
}

function handle(m: EnvelopeRequest): Answer | null {
  if (m.op === 'destroy') {
    forget(streams.get(m.id))
    streams.delete(m.id)
    return null
  }
  const out: Buffer[] = []
  let stream = streams.get(m.id)
  try {
    if (m.open !== undefined) {
      stream = opened(m.open)
      streams.set(m.id, stream)
    }
    if (stream === undefined) {
      return reply(m.id, out, [], { message: `Envelope stream "${m.id}" is not open` })
    }
    const { opener, digest, sealer } = stream
    const sealed: Buffer[] = []
    for (const chunk of m.chunks) {
      opener.update(Buffer.from(chunk), out)
      if (digest !== null) digested(digest, out)
      if (sealer !== null) resealed(sealer, out, sealed, false)
    }
    if (!m.final) {
      // What waits for the next feed is copied out of this feed's chunks, which go back.
      opener.releaseChunks()
      sealer?.releaseChunks()
      return reply(m.id, sealer === null ? out : sealed, m.chunks)
    }
    opener.final(out)
    streams.delete(m.id)
    if (sealer !== null) {
      resealed(sealer, out, sealed, true)
      return reply(m.id, sealed, m.chunks)
    }
    if (digest === null) return reply(m.id, out, m.chunks)
    digested(digest, out)
    const answer = reply(m.id, out, m.chunks)
    return { ...answer, reply: { ...answer.reply, digest: digest.finish() } }
  } catch (err) {
    streams.delete(m.id)
    if (stream === undefined) return reply(m.id, out, m.chunks, toWire(err))
    forget(stream)
    // A digesting or resealing stream sends no plaintext, not even what verified before the
    // failure (nor the new envelope's bytes: it is not whole).
    if (stream.digest !== null || stream.sealer !== null) out.length = 0
    return reply(m.id, out, m.chunks, toWire(stream.opener.asIntegrity(err)))
  }
}

/** Zeroes a stream's keys. */
function forget(stream: Stream | undefined): void {
  stream?.opener.destroy()
  stream?.sealer?.destroy()
}

/** Seals the plaintext in `out` into `sealed` (the envelope's end when `last`) and empties it. */
function resealed(sealer: EnvelopeSealer, out: Buffer[], sealed: Buffer[], last: boolean): void {
  for (const piece of out) sealer.update(piece, sealed)
  out.length = 0
  if (last) sealer.final(sealed)
}

/** Hashes the plaintext in `out` and empties it: a digesting stream sends none back. */
function digested(digest: PlaintextDigest, out: Buffer[]): void {
  for (const piece of out) digest.update(piece)
  out.length = 0
}

/**
 * The answer to a feed and what to transfer with it. A piece that lies in one of the feed's own
 * chunks (`fed`: opened or sealed in place; nothing here refers to them any more) or that is a
 * whole buffer of its own (what `node:crypto` returns) goes as a view of that buffer, which is
 * transferred, never cloned. Other pieces (tags, the header, bytes kept from an earlier feed)
 * are copied, in order, into one fresh buffer.
 */
function reply(
  id: number,
  out: readonly Buffer[],
  fed: readonly ArrayBuffer[],
  error?: WireError,
): Answer {
  const chunks = new Set<ArrayBufferLike>(fed)
  const movable = (piece: Buffer) =>
    chunks.has(piece.buffer) ||
    (piece.length >= OWN_MIN &&
      piece.byteOffset === 0 &&
      piece.byteLength === piece.buffer.byteLength)
  const copied = out.reduce((n, piece) => (movable(piece) ? n : n + piece.length), 0)
  const joined = copied === 0 ? null : Buffer.allocUnsafeSlow(copied)
  const transfer = new Set<ArrayBuffer>()
  const views: Uint8Array[] = []
  let at = 0
  for (const piece of out) {
    if (movable(piece)) {
      transfer.add(piece.buffer as ArrayBuffer)
      views.push(piece)
    } else if (joined !== null) {
      piece.copy(joined, at)
      views.push(joined.subarray(at, at + piece.length))
      at += piece.length
    }
  }
  if (joined !== null) transfer.add(joined.buffer as ArrayBuffer)
  return {
    reply: { id, out: views, ...(error === undefined ? {} : { error }) },
    transfer: [...transfer],
  }
}

/** Pieces from this size on are sent in their own buffer when they have one. */
const OWN_MIN = 4096

function toWire(err: unknown): WireError {
  if (err instanceof KeyError) {
    return { code: err.code, message: err.message, details: { ...err.details } }
  }
  return { message: err instanceof Error ? err.message : String(err) }
}

parentPort?.on('message', (m: EnvelopeRequest) => {
  const answer = handle(m)
  if (answer !== null) parentPort?.postMessage(answer.reply, answer.transfer)
})
