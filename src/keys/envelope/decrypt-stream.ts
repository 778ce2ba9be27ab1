import { Transform, type TransformCallback } from 'node:stream'
import { ENVELOPE_SEGMENT_SIZE } from './envelope-format.js'
import {
  EnvelopeOpener,
  type OpenMemory,
  type OpenOptions,
  type OpenParams,
} from './envelope-opener.js'

/** What `createDecryptStream` needs: the object's data key and the binding it was written with. */
export type DecryptParams = OpenParams

/**
 * Whole object (the stream starts with the header), or a range: then the stream holds exactly the
 * ciphertext bytes `ciphertextRangeFor(range, { plaintextSize })` names, and the header (first 16
 * bytes of the envelope) and the object's plaintext size are passed here.
 */
export type DecryptOptions = OpenOptions

/** A decrypting Transform that reports how many segments it authenticated. */
export interface DecryptStream extends Transform {
  /** Segments whose tag verified so far. */
  readonly segmentsVerified: number
}

/**
 * Its readable side holds up to one segment's plaintext (as written by default) before the
 * transform waits for the reader (Node's default, 16 KiB, would stall it after every segment).
 */
const READABLE_HIGH_WATER_MARK = ENVELOPE_SEGMENT_SIZE

/**
 * Envelope in → plaintext out (see `EnvelopeOpener`). A segment's plaintext is pushed only after
 * its GCM tag verified; any failure (flipped bit, truncation, reordering, wrong DEK or binding,
 * trailing bytes) ends the stream with a `KeyError` 'IntegrityFailure'. Memory is bounded by
 * about two segments. With `chunksOwned` (the writer gives its chunks away, as a blob read
 * opened for this stream does) segments are decrypted in place (`OpenMemory`).
 */
export function createDecryptStream(
  params: DecryptParams,
  options: DecryptOptions = {},
  memory: OpenMemory = {},
): DecryptStream {
  return new EnvelopeDecryptStream(params, options, memory)
}

class EnvelopeDecryptStream extends Transform implements DecryptStream {
  readonly #opener: EnvelopeOpener

  constructor(params: DecryptParams, options: DecryptOptions, memory: OpenMemory) {
    super({ readableHighWaterMark: READABLE_HIGH_WATER_MARK })
    this.#opener = new EnvelopeOpener(params, options, memory)
  }

  get segmentsVerified(): number {
    return this.#opener.segmentsVerified
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Segments that verified before a failing one are still delivered, as they would have been
    // had the failing segment arrived in a later chunk.
    const out: Buffer[] = []
    try {
      this.#opener.update(chunk, out)
      for (const piece of out) this.push(piece)
      callback()
    } catch (err) {
      for (const piece of out) this.push(piece)
      callback(this.#opener.asIntegrity(err))
    }
  }

  override _flush(callback: TransformCallback): void {
    const out: Buffer[] = []
    try {
      this.#opener.final(out)
      for (const piece of out) this.push(piece)
      callback()
    } catch (err) {
      for (const piece of out) this.push(piece)
      callback(this.#opener.asIntegrity(err))
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#opener.destroy()
    callback(err)
  }
}
