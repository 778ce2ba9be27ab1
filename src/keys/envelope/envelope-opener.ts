import { createDecipheriv } from 'node:crypto'
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
  SegmentParams,
  segmentCountOf,
} from './envelope-format.js'
import { NATIVE_GCM_MAX_PIECES, type NativeGcm, nativeGcm } from './native-gcm.js'

/** What opening an envelope needs: the object's data key and the binding it was written with. */
export interface OpenParams {
  readonly dek: Buffer
  readonly binding: EnvelopeBinding
}

/**
 * Whole object (the bytes start with the header), or a range: then the bytes are exactly the
 * ciphertext `ciphertextRangeFor(range, { plaintextSize })` names, and the header (first 16
 * bytes of the envelope) and the object's plaintext size are passed here.
 */
export type OpenOptions =
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

/** How the opener may treat the bytes it is fed. */
export interface OpenMemory {
  /**
   * The chunks are the caller's to give away (a blob read opened for this opener alone, bytes a
   * worker received): with the native cipher (`native-gcm.ts`) each segment is decrypted where it
   * lies and the plaintext handed out is views of the chunks, so no output buffer is allocated.
   * Otherwise the chunks are never written to.
   */
  readonly chunksOwned?: boolean
}

/** Range mode: what to emit and which segments the bytes hold. */
interface RangePlan {
  readonly start: number
  readonly end: number
  readonly lastSegment: number
  readonly totalSegments: number
  readonly size: number
}

/**
 * Envelope in → plaintext out, without streams: the one implementation of format version 1
 * opening, driven by `createDecryptStream`. A segment's plaintext is handed out only after its
 * GCM tag verified; any failure (flipped bit, truncation, reordering, wrong DEK or binding,
 * trailing bytes) throws a `KeyError` 'IntegrityFailure'. The queued ciphertext is fed to GCM
 * piece by piece (no copy into a segment buffer); only a tag split across two chunks is copied.
 */
export class EnvelopeOpener {
  readonly #dek: Buffer
  readonly #binding: EnvelopeBinding
  readonly #queue = new ByteQueue()
  #header: EnvelopeHeader | undefined
  #params: SegmentParams | undefined
  #index = 0
  #verified = 0
  #emitted = 0
  readonly #expectedSize: number | undefined
  readonly #range: RangePlan | undefined
  readonly #inPlace: boolean

  constructor(params: OpenParams, options: OpenOptions = {}, memory: OpenMemory = {}) {
    if (params.dek.length !== DEK_SIZE) {
      throw new RangeError(`Data key must be "${DEK_SIZE}" bytes: got "${params.dek.length}"`)
    }
    this.#dek = Buffer.from(params.dek)
    this.#binding = Object.freeze({ ...params.binding })
    this.#inPlace = memory.chunksOwned === true
    if (options.range !== undefined) {
      const header = parseEnvelopeHeader(options.header)
      const { start, end } = options.range
      const size = options.plaintextSize
      if (!(start >= 0 && end >= start && end < size)) {
        throw new RangeError(
          `Range "${start}-${end}" is not satisfiable: object has "${size}" bytes`,
        )
      }
      this.#useHeader(header)
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

  /** Segments whose tag verified so far. */
  get segmentsVerified(): number {
    return this.#verified
  }

  /** Feeds envelope bytes; appends to `out` the plaintext of every segment that verified. */
  update(chunk: Buffer, out: Buffer[]): void {
    this.#queue.push(chunk)
    this.#drain(false, out)
  }

  /** No more bytes: checks the envelope is complete, appends the last plaintext, forgets the key. */
  final(out: Buffer[]): void {
    this.#drain(true, out)
    if (this.#expectedSize !== undefined && this.#emitted !== this.#expectedSize) {
      throw this.#fail(
        `it holds "${this.#emitted}" plaintext bytes, not the "${this.#expectedSize}" expected`,
      )
    }
    this.#dek.fill(0)
  }

  /** Forgets the key (idempotent). */
  destroy(): void {
    this.#dek.fill(0)
  }

  /**
   * Copies the bytes still queued (at most a segment and its tag) into memory of the opener's
   * own, so that the chunks fed so far are no longer referenced here and can be given away
   * (transferred to another thread).
   */
  releaseChunks(): void {
    this.#queue.compact()
  }

  /** Any error of `update`/`final` as a `KeyError` naming where it failed (dc, bucket, key, part). */
  asIntegrity(err: unknown): Error {
    if (err instanceof KeyError) {
      if (err.details.bucket !== undefined) return err
      return new KeyError(err.code, err.message, {
        cause: err.cause,
        details: { ...err.details, ...this.#where() },
      })
    }
    return this.#fail('the envelope is malformed', err)
  }

  #useHeader(header: EnvelopeHeader): void {
    this.#header = header
    this.#params = new SegmentParams(header, this.#binding)
  }

  #drain(ending: boolean, out: Buffer[]): void {
    if (this.#header === undefined) {
      if (this.#queue.length < ENVELOPE_HEADER_SIZE) {
        if (ending) throw this.#fail('the envelope header is truncated')
        return
      }
      this.#useHeader(parseEnvelopeHeader(this.#queue.take(ENVELOPE_HEADER_SIZE)))
    }
    const header = this.#header as EnvelopeHeader
    const full = header.segmentSize + ENVELOPE_TAG_SIZE
    const range = this.#range
    if (range === undefined) {
      // Whole object: a segment followed by more bytes is not the last one. At the end, what is
      // left must be the last segment; if the writer had marked it otherwise, its tag fails.
      while (this.#queue.length > full) this.#open(full, false, out)
      if (ending) {
        if (this.#queue.length < ENVELOPE_TAG_SIZE) {
          throw this.#fail('the last segment is missing or truncated')
        }
        this.#open(this.#queue.length, true, out)
      }
      return
    }
    // Range: the segment lengths are known from the plaintext size.
    while (this.#index <= range.lastSegment) {
      const isLast = this.#index === range.totalSegments - 1
      const len = isLast ? range.size - this.#index * header.segmentSize + ENVELOPE_TAG_SIZE : full
      if (this.#queue.length < len) break
      this.#open(len, isLast, out)
    }
    if (this.#index > range.lastSegment && this.#queue.length > 0) {
      throw this.#fail('unexpected bytes after the requested segments')
    }
    if (ending && this.#index <= range.lastSegment) {
      throw this.#fail(`segment "${this.#index}" is missing or truncated`)
    }
  }

  /** Authenticates and decrypts the next `length` queued bytes (one segment and its tag). */
  #open(length: number, isLast: boolean, out: Buffer[]): void {
    const header = this.#header as EnvelopeHeader
    const params = this.#params as SegmentParams
    const index = this.#index
    const body = this.#queue.takePieces(length - ENVELOPE_TAG_SIZE)
    const tag = this.#queue.take(ENVELOPE_TAG_SIZE)
    let plaintext: Buffer[] = []
    try {
      const native = nativeGcm()
      if (native !== null) {
        plaintext = this.#openNative(native, index, isLast, body, tag)
      } else {
        const decipher = createDecipheriv('aes-256-gcm', this.#dek, params.nonce(index), {
          authTagLength: ENVELOPE_TAG_SIZE,
        })
        decipher.setAAD(params.aad(index, isLast))
        decipher.setAuthTag(tag)
        for (const piece of body) plaintext.push(decipher.update(piece))
        const rest = decipher.final() // throws when the tag does not verify
        if (rest.length > 0) plaintext.push(rest)
      }
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
      for (const piece of plaintext) {
        this.#emitted += piece.length
        if (piece.length > 0) out.push(piece)
      }
      return
    }
    // The wanted part of this segment's plaintext: [from, to) relative to the segment.
    const offset = index * header.segmentSize
    const from = Math.max(0, range.start - offset)
    const to = Math.min(length - ENVELOPE_TAG_SIZE, range.end - offset + 1)
    let at = 0
    for (const piece of plaintext) {
      const a = Math.max(from, at)
      const b = Math.min(to, at + piece.length)
      if (b > a)
        out.push(a === at && b === at + piece.length ? piece : piece.subarray(a - at, b - at))
      at += piece.length
    }
  }

  /**
   * One segment through the addon: in place over owned chunks (the plaintext is those views), or
   * into one new buffer. A tag that does not verify throws; the addon has zeroed what it wrote.
   */
  #openNative(
    native: NativeGcm,
    index: number,
    isLast: boolean,
    body: Buffer[],
    tag: Buffer,
  ): Buffer[] {
    const params = this.#params as SegmentParams
    const size = body.reduce((n, piece) => n + piece.length, 0)
    // More pieces than one call takes (tiny chunks) are joined into a copy of the opener's own.
    const joined = body.length > NATIVE_GCM_MAX_PIECES ? [Buffer.concat(body, size)] : null
    const pieces = joined ?? body
    const into = joined !== null || this.#inPlace ? null : Buffer.allocUnsafe(size)
    const nonce = params.nonce(index)
    if (!native.gcm(false, this.#dek, nonce, params.aad(index, isLast), pieces, into, tag)) {
      throw new Error('Unsupported state or unable to authenticate data')
    }
    return into === null ? pieces : [into]
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
}
