import type { IncomingHttpHeaders } from 'node:http'
import type { ChecksumAlgorithm } from '../meta/index.js'
import {
  assertChecksumValue,
  CHECKSUM_ALGORITHMS,
  checksumHeader,
  parseChecksumAlgorithm,
  startChecksum,
} from './checksums.js'
import { combineCrcs, isCombinableCrc } from './crc-combine.js'
import { S3Error } from './s3-error.js'

/**
 * How a multipart object's checksum is made from its parts (S3 "Checking object integrity"):
 * `FULL_OBJECT` is the CRC of the whole object's bytes (the parts' CRCs combined);
 * `COMPOSITE` is the checksum of the parts' concatenated raw checksums, suffixed `-<parts>`.
 */
export type MultipartChecksumType = 'FULL_OBJECT' | 'COMPOSITE'

/** The types each algorithm allows on a multipart upload; the first is its default. */
const ALLOWED_TYPES: Record<ChecksumAlgorithm, readonly MultipartChecksumType[]> = {
  CRC32: ['COMPOSITE', 'FULL_OBJECT'],
  CRC32C: ['COMPOSITE', 'FULL_OBJECT'],
  CRC64NVME: ['FULL_OBJECT'],
  SHA1: ['COMPOSITE'],
  SHA256: ['COMPOSITE'],
}

function invalidRequest(message: string): S3Error {
  return new S3Error('InvalidRequest', message)
}

function parseType(value: string): MultipartChecksumType {
  const upper = value.trim().toUpperCase()
  if (upper !== 'FULL_OBJECT' && upper !== 'COMPOSITE') {
    throw invalidRequest('Value for x-amz-checksum-type header is invalid.')
  }
  return upper
}

/** A multipart upload's checksum settings: both null when it names no algorithm. */
export interface MultipartChecksum {
  readonly algorithm: ChecksumAlgorithm | null
  readonly type: MultipartChecksumType | null
}

/**
 * CreateMultipartUpload's `x-amz-checksum-algorithm` and `x-amz-checksum-type`, checked as S3
 * checks them: algorithm first, a type needs an algorithm, the pair must be allowed (CRC64NVME
 * is FULL_OBJECT only, SHA1 and SHA256 COMPOSITE only); without a type, CRC64NVME is FULL_OBJECT
 * and the others COMPOSITE. Refusals are `InvalidRequest`.
 */
export function multipartChecksumOf(headers: IncomingHttpHeaders): MultipartChecksum {
  const algorithmHeader = headers['x-amz-checksum-algorithm']
  const typeHeader = headers['x-amz-checksum-type']
  const algorithm =
    typeof algorithmHeader === 'string' && algorithmHeader !== ''
      ? parseChecksumAlgorithm(algorithmHeader)
      : null
  const requested =
    typeof typeHeader === 'string' && typeHeader !== '' ? parseType(typeHeader) : null
  if (algorithm === null) {
    if (requested !== null) {
      throw invalidRequest(
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      )
    }
    return { algorithm: null, type: null }
  }
  const allowed = ALLOWED_TYPES[algorithm]
  if (requested !== null && !allowed.includes(requested)) {
    throw invalidRequest(
      `The ${requested} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    )
  }
  return { algorithm, type: requested ?? (allowed[0] as MultipartChecksumType) }
}

/** One part as the object's checksum is made from it. */
export interface ChecksummedPart {
  /** The part's base64 checksum in the upload's algorithm. */
  readonly checksum: string
  readonly size: number
}

/**
 * The object checksum of a completed upload: for FULL_OBJECT the parts' CRCs combined into the
 * CRC of the whole object, for COMPOSITE `base64(alg(raw1 || raw2 || …))-N`.
 */
export function objectChecksumOf(
  algorithm: ChecksumAlgorithm,
  type: MultipartChecksumType,
  parts: readonly ChecksummedPart[],
): string {
  if (type === 'FULL_OBJECT') {
    if (!isCombinableCrc(algorithm)) {
      throw new Error(`A FULL_OBJECT checksum cannot be made with ${algorithm}`)
    }
    return combineCrcs(
      algorithm,
      parts.map((p) => ({ crc: Buffer.from(p.checksum, 'base64'), size: p.size })),
    ).toString('base64')
  }
  const composite = startChecksum(algorithm)
  for (const p of parts) composite.update(Buffer.from(p.checksum, 'base64'))
  return `${composite.digest().toString('base64')}-${parts.length}`
}

/**
 * UploadPart on an upload that names an algorithm: a part checksummed (header, trailer or
 * declared algorithm) with another algorithm is refused as S3 refuses it. A part that sends none
 * is still checksummed by the server in the upload's algorithm.
 */
export function checkPartAlgorithm(
  upload: ChecksumAlgorithm | null,
  sent: readonly ChecksumAlgorithm[],
): void {
  if (upload === null) return
  const other = sent.find((a) => a !== upload)
  if (other !== undefined) {
    throw invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.toLowerCase()}, actual checksum Type: ${other.toLowerCase()}`,
    )
  }
}

/** The checksums a CompleteMultipartUpload part element carries (`ChecksumCRC32`, …). */
export type RequestedPartChecksums = Partial<Record<ChecksumAlgorithm, string>>

/**
 * Checks one part of a CompleteMultipartUpload body against the stored part: a checksum in
 * another algorithm than the upload's is `BadDigest`; one that differs from the stored value
 * is `InvalidPart` (`mismatch()`); a COMPOSITE upload must list every part's checksum
 * (`InvalidRequest`), a FULL_OBJECT one may leave them out.
 */
export function checkCompletedPart(
  upload: MultipartChecksum,
  partNumber: number,
  requested: RequestedPartChecksums,
  stored: Readonly<Partial<Record<ChecksumAlgorithm, string>>>,
  mismatch: () => S3Error,
): void {
  for (const [algorithm, value] of Object.entries(requested) as [ChecksumAlgorithm, string][]) {
    if (upload.algorithm !== null && algorithm !== upload.algorithm) {
      throw new S3Error(
        'BadDigest',
        `The ${algorithm.toLowerCase()} you specified for part ${partNumber} did not match what we received.`,
      )
    }
    if (stored[algorithm] !== value) throw mismatch()
  }
  if (
    upload.algorithm !== null &&
    upload.type === 'COMPOSITE' &&
    requested[upload.algorithm] === undefined
  ) {
    throw invalidRequest(
      `The upload was created using a ${upload.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${partNumber} in the request.`,
    )
  }
}

/** What CompleteMultipartUpload's headers assert about the object being completed. */
export interface CompletionAssertions {
  /** `x-amz-checksum-<alg>`: the whole object's checksum, as the upload's type makes it. */
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string } | null
  /** `x-amz-mp-object-size`. */
  readonly size: number | null
}

/**
 * Reads CompleteMultipartUpload's headers: `x-amz-checksum-type` must be the upload's type
 * (`InvalidRequest`), at most one `x-amz-checksum-<alg>` in the upload's algorithm, well-formed
 * for its type (COMPOSITE values end in `-<parts>`), and `x-amz-mp-object-size` a whole number.
 */
export function completionAssertionsOf(
  headers: IncomingHttpHeaders,
  upload: MultipartChecksum,
): CompletionAssertions {
  const typeHeader = headers['x-amz-checksum-type']
  if (typeof typeHeader === 'string' && typeHeader !== '') {
    const type = parseType(typeHeader)
    if (upload.type === null) {
      throw invalidRequest(
        'The upload was not created with a checksum mode. The complete request must not include a x-amz-checksum-type header.',
      )
    }
    if (type !== upload.type) {
      throw invalidRequest(
        `The upload was created using the ${upload.type} checksum mode. The complete request must use the same checksum mode.`,
      )
    }
  }
  const sent = CHECKSUM_ALGORITHMS.filter((a) => typeof headers[checksumHeader(a)] === 'string')
  if (sent.length > 1) {
    throw invalidRequest(
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    )
  }
  let checksum: CompletionAssertions['checksum'] = null
  const algorithm = sent[0]
  if (algorithm !== undefined) {
    const value = String(headers[checksumHeader(algorithm)]).trim()
    if (upload.algorithm !== null && algorithm !== upload.algorithm) {
      throw invalidRequest(
        `Checksum Type mismatch occurred, expected checksum Type: ${upload.algorithm.toLowerCase()}, actual checksum Type: ${algorithm.toLowerCase()}`,
      )
    }
    const composite = /^(.+)-(\d+)$/.exec(value)
    const digest = upload.type === 'COMPOSITE' && composite !== null ? composite[1] : value
    if (upload.type === 'COMPOSITE' && composite === null) {
      throw invalidRequest(`Value for ${checksumHeader(algorithm)} header is invalid.`)
    }
    assertChecksumValue(algorithm, digest as string)
    checksum = { algorithm, value }
  }
  const sizeHeader = headers['x-amz-mp-object-size']
  let size: number | null = null
  if (typeof sizeHeader === 'string') {
    if (!/^\d+$/.test(sizeHeader.trim())) {
      throw invalidRequest(`Value for x-amz-mp-object-size header is invalid.`)
    }
    size = Number(sizeHeader.trim())
  }
  return { checksum, size }
}

/**
 * Compares the assertions with the object as completed: a checksum that differs is
 * `BadDigest` (a checksum asserted for an upload without an algorithm can never match), a size
 * that differs `InvalidRequest`.
 */
export function checkCompletion(
  assertions: CompletionAssertions,
  object: {
    readonly size: number
    readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>
  },
): void {
  const asserted = assertions.checksum
  if (asserted !== null && object.checksums[asserted.algorithm] !== asserted.value) {
    throw new S3Error(
      'BadDigest',
      `The ${asserted.algorithm} you specified did not match the calculated checksum.`,
    )
  }
  if (assertions.size !== null && assertions.size !== object.size) {
    throw invalidRequest(
      `The provided 'x-amz-mp-object-size' header value ${assertions.size} does not match what was computed: ${object.size}`,
    )
  }
}
