import { KeyErrors } from '../key-error.js'

/**
 * The at-rest envelope, format version 1 (see ./README.md for the byte-by-byte layout).
 *
 *   header (16 bytes) ‖ segment 0 ‖ segment 1 ‖ … ‖ segment n-1
 *   segment i = AES-256-GCM(DEK, nonce_i, AAD_i, plaintext_i) ‖ tag (16 bytes)
 *
 * Every segment but the last holds exactly `segmentSize` plaintext bytes; the last holds
 * 1…segmentSize bytes (0 only for an empty object), so an object always has at least one segment
 * and the last one is marked in its AAD.
 */

/** Magic bytes at offset 0: ASCII "SVRE" (Sovra envelope). */
export const ENVELOPE_MAGIC = Buffer.from('SVRE', 'ascii')
/** The format version this code writes. Readers dispatch on it (see `parseEnvelopeHeader`). */
export const ENVELOPE_VERSION = 1
/** Algorithm id 1: AES-256-GCM, 12-byte nonce, 16-byte tag. */
export const ENVELOPE_ALGORITHM_AES_256_GCM = 1
/** Header length of format version 1. */
export const ENVELOPE_HEADER_SIZE = 16
/**
 * Plaintext bytes per segment written by default (256 KiB). Every segment costs a cipher set-up,
 * a tag and its checks, so larger segments cost less per byte (64 KiB segments cost PUT and GET
 * of large objects 10-20% more throughput, docs/benchmarks.md 2026-11-28 07:00); smaller ones
 * make a short range read cheaper (a 1 KiB range decrypts one or two segments). Objects written
 * with another size (64 KiB before 2026-11-28) stay readable: the header carries it.
 */
export const ENVELOPE_SEGMENT_SIZE = 262_144
/** GCM tag length appended to every segment. */
export const ENVELOPE_TAG_SIZE = 16
/** Data key length: AES-256. */
export const DEK_SIZE = 32

/** Smallest and largest segment size a reader accepts (bounds memory on a hostile header). */
const MIN_SEGMENT_SIZE = 1_024
const MAX_SEGMENT_SIZE = 16 * 1_048_576
const NONCE_PREFIX_SIZE = 4
/** Domain separation: an AAD of this format can never equal one of another use of AES-GCM. */
const AAD_LABEL = Buffer.from('sovra/envelope/v1\0', 'ascii')

/** Which object a ciphertext belongs to; every segment's AAD binds all of it. */
export interface EnvelopeBinding {
  readonly dc: string
  readonly bucket: string
  readonly key: string
  /** The version id (`"null"` for unversioned buckets). */
  readonly versionId: string
  /** Multipart part number (1…10000); absent (encoded as 0) for a whole object. */
  readonly partNumber?: number
}

/** The parsed header of an envelope. */
export interface EnvelopeHeader {
  readonly version: 1
  readonly segmentSize: number
  readonly noncePrefix: Buffer
  /** The exact header bytes, bound into every segment's AAD. */
  readonly bytes: Buffer
}

/** An inclusive byte range, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/** Builds a version-1 header. */
export function encodeEnvelopeHeader(segmentSize: number, noncePrefix: Buffer): EnvelopeHeader {
  checkSegmentSize(segmentSize)
  if (noncePrefix.length !== NONCE_PREFIX_SIZE) {
    throw new RangeError(
      `Nonce prefix must be "${NONCE_PREFIX_SIZE}" bytes: got "${noncePrefix.length}"`,
    )
  }
  const bytes = Buffer.alloc(ENVELOPE_HEADER_SIZE)
  ENVELOPE_MAGIC.copy(bytes, 0)
  bytes.writeUInt8(ENVELOPE_VERSION, 4)
  bytes.writeUInt8(ENVELOPE_ALGORITHM_AES_256_GCM, 5)
  bytes.writeUInt16BE(0, 6)
  bytes.writeUInt32BE(segmentSize, 8)
  noncePrefix.copy(bytes, 12)
  return { version: 1, segmentSize, noncePrefix: Buffer.from(noncePrefix), bytes }
}

/**
 * Parses a header. Unknown magic, version, algorithm or reserved bits are integrity failures
 * (`details.reason` says which): a reader never guesses at a format it does not know. A future
 * version adds a branch here and keeps the v1 branch, so old objects stay readable.
 */
export function parseEnvelopeHeader(bytes: Buffer): EnvelopeHeader {
  const what = 'envelope header'
  if (bytes.length < ENVELOPE_HEADER_SIZE) throw KeyErrors.integrity(what, 'it is truncated')
  if (!bytes.subarray(0, 4).equals(ENVELOPE_MAGIC)) throw KeyErrors.integrity(what, 'bad magic')
  const version = bytes.readUInt8(4)
  if (version !== ENVELOPE_VERSION) {
    throw KeyErrors.integrity(what, `unsupported format version "${version}"`)
  }
  if (bytes.readUInt8(5) !== ENVELOPE_ALGORITHM_AES_256_GCM || bytes.readUInt16BE(6) !== 0) {
    throw KeyErrors.integrity(what, 'unknown algorithm or reserved bits set')
  }
  const segmentSize = bytes.readUInt32BE(8)
  if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw KeyErrors.integrity(what, `segment size "${segmentSize}" is out of bounds`)
  }
  const copy = Buffer.from(bytes.subarray(0, ENVELOPE_HEADER_SIZE))
  return { version: 1, segmentSize, noncePrefix: copy.subarray(12, 16), bytes: copy }
}

/**
 * The nonce of segment `index`: the object's 4-byte random prefix ‖ the 8-byte big-endian
 * segment counter.
 *
 * Why this never repeats: a DEK is fresh random per object (and per part) and encrypts exactly
 * one envelope, whose segments have distinct counters, so (key, nonce) pairs are unique by
 * construction, with no birthday bound. The random prefix is defence in depth: should a bug
 * ever reuse a DEK for a second write, the two writes still collide only with probability 2^-32
 * instead of always. We rejected HKDF(DEK, index) nonces: they buy nothing over a counter under
 * a single-use key and cost a hash per segment. We rejected fully random 12-byte nonces: they
 * would have to be stored per segment (12 bytes each) for the reader.
 */
export function segmentNonce(header: EnvelopeHeader, index: number): Buffer {
  const nonce = Buffer.alloc(12)
  header.noncePrefix.copy(nonce, 0)
  nonce.writeBigUInt64BE(BigInt(index), 4)
  return nonce
}

/**
 * The canonical AAD of segment `index`: a label, the header bytes, then dc, bucket, key and
 * versionId each as a 4-byte big-endian length ‖ UTF-8 bytes, the part number (u32), the segment
 * index (u64) and the last-segment flag (u8). Length prefixes make the encoding injective: no two
 * different bindings share an AAD, whatever characters the names hold.
 */
export function segmentAad(
  header: EnvelopeHeader,
  segment: { readonly binding: EnvelopeBinding; readonly index: number; readonly isLast: boolean },
): Buffer {
  const { binding } = segment
  const fields = [binding.dc, binding.bucket, binding.key, binding.versionId].map((s) =>
    Buffer.from(s, 'utf8'),
  )
  const tail = Buffer.alloc(4 + 8 + 1)
  tail.writeUInt32BE(binding.partNumber ?? 0, 0)
  tail.writeBigUInt64BE(BigInt(segment.index), 4)
  tail.writeUInt8(segment.isLast ? 1 : 0, 12)
  const parts: Buffer[] = [AAD_LABEL, header.bytes]
  for (const field of fields) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(field.length, 0)
    parts.push(len, field)
  }
  parts.push(tail)
  return Buffer.concat(parts)
}

/**
 * The nonces and AADs of one envelope's segments, encoded once per envelope: the identity part of
 * the AAD is fixed, so each segment only patches its index and last flag into one buffer (and its
 * index into one nonce buffer). Bytes are exactly `segmentNonce` and `segmentAad`. The buffers are
 * reused: pass them straight to `createCipheriv` / `setAAD`, which copy them.
 */
export class SegmentParams {
  readonly #nonce: Buffer
  readonly #aad: Buffer
  /** Offset of the u64 segment index in the AAD (the last flag follows it). */
  readonly #indexAt: number

  constructor(header: EnvelopeHeader, binding: EnvelopeBinding) {
    const aad = segmentAad(header, { binding, index: 0, isLast: false })
    this.#aad = aad
    this.#indexAt = aad.length - 9
    this.#nonce = segmentNonce(header, 0)
  }

  /** The nonce of segment `index` (the same buffer each call). */
  nonce(index: number): Buffer {
    this.#nonce.writeBigUInt64BE(BigInt(index), NONCE_PREFIX_SIZE)
    return this.#nonce
  }

  /** The AAD of segment `index` (the same buffer each call). */
  aad(index: number, isLast: boolean): Buffer {
    this.#aad.writeBigUInt64BE(BigInt(index), this.#indexAt)
    this.#aad.writeUInt8(isLast ? 1 : 0, this.#indexAt + 8)
    return this.#aad
  }
}

/** Number of segments of an object of `plaintextSize` bytes (at least one). */
export function segmentCountOf(plaintextSize: number, segmentSize = ENVELOPE_SEGMENT_SIZE): number {
  return Math.max(1, Math.ceil(plaintextSize / segmentSize))
}

/** Ciphertext size of an object of `plaintextSize` bytes. */
export function ciphertextSizeOf(
  plaintextSize: number,
  segmentSize = ENVELOPE_SEGMENT_SIZE,
): number {
  checkSize(plaintextSize)
  return (
    ENVELOPE_HEADER_SIZE +
    plaintextSize +
    segmentCountOf(plaintextSize, segmentSize) * ENVELOPE_TAG_SIZE
  )
}

/**
 * Plaintext size of a stored envelope of `ciphertextSize` bytes (the S3 `Content-Length`).
 * Throws `IntegrityFailure` when no plaintext size maps to it (a truncated or padded file).
 */
export function plaintextSizeOf(
  ciphertextSize: number,
  segmentSize = ENVELOPE_SEGMENT_SIZE,
): number {
  checkSize(ciphertextSize)
  const body = ciphertextSize - ENVELOPE_HEADER_SIZE
  const full = segmentSize + ENVELOPE_TAG_SIZE
  if (body < ENVELOPE_TAG_SIZE) {
    throw KeyErrors.integrity('envelope', `size "${ciphertextSize}" is too small`)
  }
  const segments = Math.ceil(body / full)
  const plaintext = body - segments * ENVELOPE_TAG_SIZE
  if (plaintext < 0 || ciphertextSizeOf(plaintext, segmentSize) !== ciphertextSize) {
    throw KeyErrors.integrity('envelope', `size "${ciphertextSize}" is not a valid envelope size`)
  }
  return plaintext
}

/** What to read for a plaintext range: an inclusive ciphertext byte range and its segments. */
export interface CiphertextRange extends ByteRange {
  /** Index of the first segment the range touches. */
  readonly firstSegment: number
  /** Index of the last segment the range touches. */
  readonly lastSegment: number
}

/**
 * The ciphertext bytes (offsets in the stored envelope, header included in the count but not in
 * the range) that hold the plaintext `range` (inclusive) of an object of `layout.plaintextSize`
 * bytes (a number, or `{ plaintextSize, segmentSize }` for a non-default segment size): whole
 * segments only, so each can be authenticated. The header (bytes 0…15) must be read
 * separately and given to `createDecryptStream`.
 */
export function ciphertextRangeFor(
  range: ByteRange,
  layout: number | { readonly plaintextSize: number; readonly segmentSize?: number },
): CiphertextRange {
  const size = typeof layout === 'number' ? layout : layout.plaintextSize
  const segmentSize =
    typeof layout === 'number'
      ? ENVELOPE_SEGMENT_SIZE
      : (layout.segmentSize ?? ENVELOPE_SEGMENT_SIZE)
  checkSize(size)
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end)) {
    throw new RangeError(`Range must be integers: got "${range.start}-${range.end}"`)
  }
  if (range.start < 0 || range.end < range.start || range.end >= size) {
    throw new RangeError(
      `Range "${range.start}-${range.end}" is not satisfiable: object has "${size}" bytes`,
    )
  }
  const firstSegment = Math.floor(range.start / segmentSize)
  const lastSegment = Math.floor(range.end / segmentSize)
  const full = segmentSize + ENVELOPE_TAG_SIZE
  const lastLen = Math.min(segmentSize, size - lastSegment * segmentSize)
  return {
    start: ENVELOPE_HEADER_SIZE + firstSegment * full,
    end: ENVELOPE_HEADER_SIZE + lastSegment * full + lastLen + ENVELOPE_TAG_SIZE - 1,
    firstSegment,
    lastSegment,
  }
}

function checkSegmentSize(segmentSize: number): void {
  if (
    !Number.isInteger(segmentSize) ||
    segmentSize < MIN_SEGMENT_SIZE ||
    segmentSize > MAX_SEGMENT_SIZE
  ) {
    throw new RangeError(
      `Segment size must be an integer in ${MIN_SEGMENT_SIZE}…${MAX_SEGMENT_SIZE}: got "${segmentSize}"`,
    )
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Size must be a non-negative integer: got "${size}"`)
  }
}
