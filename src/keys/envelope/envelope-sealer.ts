import { createCipheriv } from 'node:crypto'
import { randomBytesPooled } from '../../core/index.js'
import { ByteQueue } from './byte-queue.js'
import {
  DEK_SIZE,
  ENVELOPE_SEGMENT_SIZE,
  ENVELOPE_TAG_SIZE,
  type EnvelopeBinding,
  type EnvelopeHeader,
  encodeEnvelopeHeader,
  SegmentParams,
} from './envelope-format.js'
import { NATIVE_GCM_MAX_PIECES, type NativeGcm, nativeGcm } from './native-gcm.js'

/** What an envelope is sealed with. */
export interface SealParams {
  /** The object's fresh 32-byte data key (`generateDataKey()`); never reuse it. */
  readonly dek: Buffer
  readonly binding: EnvelopeBinding
  /** Plaintext bytes per segment; defaults to `ENVELOPE_SEGMENT_SIZE`. Tests use small segments. */
  readonly segmentSize?: number
}

/** How the sealer may treat the plaintext it is fed. */
export interface SealMemory {
  /**
   * The chunks are the caller's to give away (plaintext a worker opened in place): with the
   * native cipher (`native-gcm.ts`) each segment is encrypted where it lies and the envelope
   * handed out is views of the chunks and the tags. Otherwise the chunks are never written to.
   */
  readonly chunksOwned?: boolean
}

/**
 * A segment whose input pieces average less than this is copied into one buffer first: each piece
 * is one `update()` call and one output buffer, cheaper than copying the segment only when pieces
 * are few (4 for a 64 KiB segment, 16 for a 256 KiB one).
 */
const MIN_AVERAGE_PIECE = 16 * 1024

/**
 * Plaintext in → envelope (header ‖ segments) out, without streams: the one implementation of
 * format version 1 sealing, driven by `createEncryptStream` and `sealEnvelope`. Memory is one
 * segment plus the incoming chunk: a segment is sealed once the next byte (or the end) shows
 * whether it is the last one, because the last flag is part of its AAD. The queued plaintext is
 * fed to GCM piece by piece (no copy into a segment buffer), and the ciphertext comes out as the
 * cipher's own output buffers followed by the tag.
 */
export class EnvelopeSealer {
  readonly #dek: Buffer
  readonly #header: EnvelopeHeader
  readonly #params: SegmentParams
  readonly #pending = new ByteQueue()
  #index = 0
  #headerSent = false
  #finished = false
  readonly #inPlace: boolean

  constructor(params: SealParams, memory: SealMemory = {}) {
    if (params.dek.length !== DEK_SIZE) {
      throw new RangeError(`Data key must be "${DEK_SIZE}" bytes: got "${params.dek.length}"`)
    }
    this.#dek = Buffer.from(params.dek)
    this.#inPlace = memory.chunksOwned === true
    this.#header = encodeEnvelopeHeader(
      params.segmentSize ?? ENVELOPE_SEGMENT_SIZE,
      randomBytesPooled(4),
    )
    this.#params = new SegmentParams(this.#header, Object.freeze({ ...params.binding }))
  }

  /** Feeds plaintext; appends to `out` the envelope bytes that are ready (header first). */
  update(chunk: Buffer, out: Buffer[]): void {
    if (this.#finished) throw new Error('Cannot seal more bytes: the envelope is finished')
    this.#sendHeader(out)
    this.#pending.push(chunk)
    const size = this.#header.segmentSize
    // Strictly more than one segment queued: the first one is certainly not the last.
    while (this.#pending.length > size) this.#seal(size, false, out)
  }

  /** Seals the last segment; appends the rest of the envelope to `out` and forgets the key. */
  final(out: Buffer[]): void {
    if (this.#finished) throw new Error('Cannot finish the envelope: it is finished')
    this.#sendHeader(out)
    this.#seal(this.#pending.length, true, out)
    this.#finished = true
    this.#dek.fill(0)
  }

  /** Forgets the key (idempotent); the sealer cannot be used after. */
  destroy(): void {
    this.#finished = true
    this.#dek.fill(0)
  }

  /**
   * Copies the plaintext still queued (at most a segment) into memory of the sealer's own, so
   * that the chunks fed so far are no longer referenced here and can be given away.
   */
  releaseChunks(): void {
    this.#pending.compact()
  }

  #sendHeader(out: Buffer[]): void {
    if (this.#headerSent) return
    this.#headerSent = true
    out.push(this.#header.bytes)
  }

  #seal(length: number, isLast: boolean, out: Buffer[]): void {
    const native = nativeGcm()
    if (native !== null) {
      this.#sealNative(native, length, isLast, out)
      return
    }
    const index = this.#index++
    const cipher = createCipheriv('aes-256-gcm', this.#dek, this.#params.nonce(index), {
      authTagLength: ENVELOPE_TAG_SIZE,
    })
    cipher.setAAD(this.#params.aad(index, isLast))
    let pieces = this.#pending.takePieces(length)
    if (
      pieces.length > 1 &&
      pieces.length * MIN_AVERAGE_PIECE > Math.max(length, MIN_AVERAGE_PIECE)
    )
      pieces = [Buffer.concat(pieces, length)]
    for (const piece of pieces) out.push(cipher.update(piece))
    const rest = cipher.final() // GCM is a stream mode: always empty
    if (rest.length > 0) out.push(rest)
    out.push(cipher.getAuthTag())
  }

  /**
   * One segment through the addon: in place over owned chunks (the ciphertext is those views,
   * then the tag), or into one new buffer holding the ciphertext and its tag.
   */
  #sealNative(native: NativeGcm, length: number, isLast: boolean, out: Buffer[]): void {
    const index = this.#index++
    const params = this.#params
    let pieces = this.#pending.takePieces(length)
    // More pieces than one call takes (tiny chunks) are joined into a copy of the sealer's own.
    const joined = pieces.length > NATIVE_GCM_MAX_PIECES
    if (joined) pieces = [Buffer.concat(pieces, length)]
    const nonce = params.nonce(index)
    const aad = params.aad(index, isLast)
    if (this.#inPlace || joined) {
      const tag = Buffer.allocUnsafe(ENVELOPE_TAG_SIZE)
      native.gcm(true, this.#dek, nonce, aad, pieces, null, tag)
      for (const piece of pieces) if (piece.length > 0) out.push(piece)
      out.push(tag)
      return
    }
    const sealed = Buffer.allocUnsafe(length + ENVELOPE_TAG_SIZE)
    native.gcm(true, this.#dek, nonce, aad, pieces, sealed, sealed.subarray(length))
    out.push(sealed)
  }
}
