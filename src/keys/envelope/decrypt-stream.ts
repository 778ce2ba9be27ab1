import { createDecipheriv } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { KeyError, KeyErrors } from '../key-error.js'
import { ByteQueue } from './byte-queue.js'
import {
  type ByteRange,
  DEK_SIZE,
  ENVELOPE_HEADER_SIZE,
  ENVELOPE_TAG_SIZE,
  type EnvelopeBinding,
  type EnvelopeHeader,
  parseEnvelopeHeader,
  segmentAad,
  segmentCountOf,
  segmentNonce,
} from './envelope-format.js'

/** What `createDecryptStream` needs: the object's data key and the binding it was written with. */
export interface DecryptParams {
  readonly dek: Buffer
  readonly binding: EnvelopeBinding
}

/**
 * Whole object (the stream starts with the header), or a range: then the stream holds exactly the
 * ciphertext bytes `ciphertextRangeFor(range, { plaintextSize })` names, and the header (first 16
 * bytes of the envelope) and the object's plaintext size are passed here.
 */
export type DecryptOptions =
  | {
      readonly range?: undefined
      /** When given, an envelope that decrypts to any other length is an integrity failure. */
      readonly plaintextSize?: number
    }
  | {
      /** Inclusive plaintext range to emit. */
      readonly range: ByteRange
      readonly plaintextSize: number
      /** The envelope's first 16 bytes. */
      readonly header: Buffer
    }

/** A decrypting Transform that reports how many segments it authenticated. */
export interface DecryptStream extends Transform {
  /** Segments whose tag verified so far. */
  readonly segmentsVerified: number
}

/**
 * Envelope in → plaintext out. A segment's plaintext is pushed only after its GCM tag verified;
 * any failure (flipped bit, truncation, reordering, wrong DEK or binding, trailing bytes) ends
 * the stream with a `KeyError` 'IntegrityFailure'. Memory is bounded by about two segments.
 */
export function createDecryptStream(
  params: DecryptParams,
  options: DecryptOptions = {},
): DecryptStream {
  return new EnvelopeDecryptStream(params, options)
}

class EnvelopeDecryptStream extends Transform implements DecryptStream {
  readonly #dek: Buffer
  readonly #binding: EnvelopeBinding
  readonly #queue = new ByteQueue()
  #header: EnvelopeHeader | undefined
  #index = 0
  #verified = 0
  #emitted = 0
  readonly #expectedSize: number | undefined
  /** Range mode: what to emit and which segments the stream holds. */
  readonly #range:
    | { start: number; end: number; lastSegment: number; totalSegments: number; size: number }
    | undefined

  constructor(params: DecryptParams, options: DecryptOptions) {
    super()
    if (params.dek.length !== DEK_SIZE) {
      throw new RangeError(`Data key must be "${DEK_SIZE}" bytes: got "${params.dek.length}"`)
    }
    this.#dek = Buffer.from(params.dek)
    this.#binding = Object.freeze({ ...params.binding })
    if (options.range !== undefined) {
      const header = parseEnvelopeHeader(options.header)
      const { start, end } = options.range
      const size = options.plaintextSize
      if (!(start >= 0 && end >= start && end < size)) {
        throw new RangeError(
          `Range "${start}-${end}" is not satisfiable: object has "${size}" bytes`,
        )
      }
      this.#header = header
      this.#index = Math.floor(start / header.segmentSize)
      this.#range = {
        start,
        end,
        lastSegment: Math.floor(end / header.segmentSize),
        totalSegments: segmentCountOf(size, header.segmentSize),
        size,
      }
      this.#expectedSize = undefined
    } else {
      this.#range = undefined
      this.#expectedSize = options.plaintextSize
    }
  }

  get segmentsVerified(): number {
    return this.#verified
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#queue.push(chunk)
      this.#drain(false)
      callback()
    } catch (err) {
      callback(this.#asIntegrity(err))
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#drain(true)
      if (this.#expectedSize !== undefined && this.#emitted !== this.#expectedSize) {
        throw this.#fail(
          `it holds "${this.#emitted}" plaintext bytes, not the "${this.#expectedSize}" expected`,
        )
      }
      this.#dek.fill(0)
      callback()
    } catch (err) {
      callback(this.#asIntegrity(err))
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#dek.fill(0)
    callback(err)
  }

  #drain(ending: boolean): void {
    if (this.#header === undefined) {
      if (this.#queue.length < ENVELOPE_HEADER_SIZE) {
        if (ending) throw this.#fail('the envelope header is truncated')
        return
      }
      this.#header = parseEnvelopeHeader(this.#queue.take(ENVELOPE_HEADER_SIZE))
    }
    const header = this.#header
    const full = header.segmentSize + ENVELOPE_TAG_SIZE
    const range = this.#range
    if (range === undefined) {
      // Whole object: a segment followed by more bytes is not the last one. At the end, what is
      // left must be the last segment; if the writer had marked it otherwise, its tag fails.
      while (this.#queue.length > full) this.#open(this.#queue.take(full), false)
      if (ending) {
        if (this.#queue.length < ENVELOPE_TAG_SIZE) {
          throw this.#fail('the last segment is missing or truncated')
        }
        this.#open(this.#queue.take(this.#queue.length), true)
      }
      return
    }
    // Range: the segment lengths are known from the plaintext size.
    while (this.#index <= range.lastSegment) {
      const isLast = this.#index === range.totalSegments - 1
      const len = isLast ? range.size - this.#index * header.segmentSize + ENVELOPE_TAG_SIZE : full
      if (this.#queue.length < len) break
      this.#open(this.#queue.take(len), isLast)
    }
    if (this.#index > range.lastSegment && this.#queue.length > 0) {
      throw this.#fail('unexpected bytes after the requested segments')
    }
    if (ending && this.#index <= range.lastSegment) {
      throw this.#fail(`segment "${this.#index}" is missing or truncated`)
    }
  }

  /** Authenticates and decrypts one segment, then pushes (the wanted part of) its plaintext. */
  #open(segment: Buffer, isLast: boolean): void {
    const header = this.#header as EnvelopeHeader
    const index = this.#index
    const body = segment.subarray(0, segment.length - ENVELOPE_TAG_SIZE)
    const tag = segment.subarray(segment.length - ENVELOPE_TAG_SIZE)
    let plaintext: Buffer
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#dek, segmentNonce(header, index), {
        authTagLength: ENVELOPE_TAG_SIZE,
      })
      decipher.setAAD(segmentAad(header, { binding: this.#binding, index, isLast }))
      decipher.setAuthTag(tag)
      const head = decipher.update(body)
      const rest = decipher.final() // throws when the tag does not verify
      plaintext = rest.length === 0 ? head : Buffer.concat([head, rest])
    } catch (err) {
      throw this.#fail(
        `segment "${index}" failed authentication (tampered, reordered, truncated, or another object's key)`,
        err,
        { segment: String(index) },
      )
    }
    this.#index++
    this.#verified++
    const range = this.#range
    if (range === undefined) {
      this.#emitted += plaintext.length
      if (plaintext.length > 0) this.push(plaintext)
      return
    }
    const offset = index * header.segmentSize
    const from = Math.max(0, range.start - offset)
    const to = Math.min(plaintext.length, range.end - offset + 1)
    if (to > from) this.push(plaintext.subarray(from, to))
  }

  #what(): string {
    const b = this.#binding
    return `object "${b.bucket}/${b.key}" version "${b.versionId}" in "${b.dc}"`
  }

  /** Where it failed, for the operator: the binding's dc, bucket, key and part. */
  #where(): Record<string, string> {
    const b = this.#binding
    return {
      dc: b.dc,
      bucket: b.bucket,
      key: b.key,
      ...(b.partNumber === undefined ? {} : { part: String(b.partNumber) }),
    }
  }

  #fail(reason: string, cause?: unknown, extra: Record<string, string> = {}): KeyError {
    return KeyErrors.integrity(this.#what(), reason, cause, { ...this.#where(), ...extra })
  }

  #asIntegrity(err: unknown): Error {
    if (err instanceof KeyError) {
      if (err.details.bucket !== undefined) return err
      return new KeyError(err.code, err.message, {
        cause: err.cause,
        details: { ...err.details, ...this.#where() },
      })
    }
    return this.#fail('the envelope is malformed', err)
  }
}
