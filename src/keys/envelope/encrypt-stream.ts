import { randomBytes } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { DEK_SIZE } from './envelope-format.js'
import type { OpenParams } from './envelope-opener.js'
import { EnvelopeSealer, type SealMemory, type SealParams } from './envelope-sealer.js'
import { resealEnvelopeOffThread } from './envelope-threads.js'

/** What `createEncryptStream` and `sealEnvelope` need. */
export type EncryptParams = SealParams

/**
 * What `sealEnvelope` needs when its source is an envelope to open rather than plaintext: the
 * key and binding it was sealed with and, optionally, its plaintext size (another size fails).
 * With `sourceChunksOwned` (a blob read opened for this alone) whole chunks move to the worker
 * without a copy.
 */
export interface OpeningParams extends OpenParams {
  readonly plaintextSize?: number
  readonly sourceChunksOwned?: boolean
}

/** Returns a fresh random 32-byte data key. */
export function generateDataKey(): Buffer {
  return randomBytes(DEK_SIZE)
}

/**
 * Plaintext in → envelope (header ‖ segments) out, as a Transform (see `EnvelopeSealer`). Memory
 * is bounded by one segment plus the incoming chunk.
 */
export function createEncryptStream(params: EncryptParams): Transform {
  return new EnvelopeEncryptStream(params)
}

/**
 * The same envelope as `createEncryptStream`, as an async generator over `source`: no stream in
 * between, so a writer that consumes iterables (the blob store) gets each ciphertext buffer as
 * the cipher made it, with no stream buffering or concatenation. The key is copied now (the
 * caller may zero its buffer as soon as this returns) and zeroed however the iteration ends;
 * errors of `source` are thrown as they are. With `chunksOwned` (nothing reads the source's
 * chunks once they are yielded) segments are sealed in place (`SealMemory`).
 */
export function sealEnvelope(
  source: AsyncIterable<Buffer>,
  params: EncryptParams & {
    /**
     * `source` is another envelope: opened with these (every segment's tag and binding checked,
     * the opener's `KeyError`s) and its plaintext sealed under `params`, both on an envelope
     * worker (`resealEnvelopeOffThread`), so the plaintext never reaches this thread.
     */
    readonly opening?: OpeningParams
  },
  memory: SealMemory = {},
): AsyncGenerator<Buffer, void, undefined> {
  const { opening, ...seal } = params
  if (opening !== undefined) {
    const { sourceChunksOwned = false, ...open } = opening
    return resealEnvelopeOffThread(source, open, seal, { sourceChunksOwned })
  }
  return sealing(source, new EnvelopeSealer(seal, memory))
}

async function* sealing(
  source: AsyncIterable<Buffer>,
  sealer: EnvelopeSealer,
): AsyncGenerator<Buffer, void, undefined> {
  try {
    const out: Buffer[] = []
    for await (const chunk of source) {
      sealer.update(chunk, out)
      for (const piece of out) yield piece
      out.length = 0
    }
    sealer.final(out)
    for (const piece of out) yield piece
  } finally {
    sealer.destroy()
  }
}

class EnvelopeEncryptStream extends Transform {
  readonly #sealer: EnvelopeSealer

  constructor(params: EncryptParams) {
    super()
    this.#sealer = new EnvelopeSealer(params)
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const out: Buffer[] = []
      this.#sealer.update(chunk, out)
      for (const piece of out) this.push(piece)
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const out: Buffer[] = []
      this.#sealer.final(out)
      for (const piece of out) this.push(piece)
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#sealer.destroy()
    callback(err)
  }
}
