import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { crc32 as zlibCrc32 } from 'node:zlib'
import { crc32c } from '@node-rs/crc32'
import type { ChecksumAlgorithm } from '../meta/index.js'
import { Crc64Nvme } from './crc64nvme.js'
import { S3Error } from './s3-error.js'

/** The algorithms S3 supports, and their header names. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
]

/** `x-amz-checksum-crc32` etc. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`
}

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
}

/** Parses an algorithm name as clients send it (any case); unknown names get `InvalidRequest`. */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm {
  const upper = value.toUpperCase()
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)) return upper as ChecksumAlgorithm
  throw new S3Error(
    'InvalidRequest',
    `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]`,
  )
}

interface Running {
  update(data: Buffer): void
  digest(): Buffer
}

function crcRunner(fn: (data: Buffer, seed: number) => number): Running {
  let value = 0
  return {
    update(data) {
      value = fn(data, value)
    },
    digest() {
      const out = Buffer.alloc(4)
      out.writeUInt32BE(value >>> 0)
      return out
    },
  }
}

function hashRunner(hash: Hash): Running {
  return { update: (data) => hash.update(data), digest: () => hash.digest() }
}

/** A running checksum of one algorithm. */
export function startChecksum(algorithm: ChecksumAlgorithm): Running {
  switch (algorithm) {
    case 'CRC32':
      return crcRunner((d, s) => zlibCrc32(d, s))
    case 'CRC32C':
      return crcRunner((d, s) => crc32c(d, s))
    case 'CRC64NVME': {
      const crc = new Crc64Nvme()
      return { update: (d) => crc.update(d), digest: () => crc.digest() }
    }
    case 'SHA1':
      return hashRunner(createHash('sha1'))
    case 'SHA256':
      return hashRunner(createHash('sha256'))
  }
}

/** Checks that a client-sent checksum value is well-formed base64 of the right length. */
export function assertChecksumValue(algorithm: ChecksumAlgorithm, value: string): void {
  const raw = Buffer.from(value, 'base64')
  if (raw.length !== DIGEST_BYTES[algorithm] || raw.toString('base64') !== value) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeader(algorithm)} header is invalid.`)
  }
}

/**
 * Pass-through stream that counts bytes and computes the MD5 (for the ETag) and any S3 checksums
 * asked for, without buffering.
 */
export class BodyDigester extends Transform {
  #md5 = createHash('md5')
  #checksums = new Map<ChecksumAlgorithm, Running>()
  #size = 0
  #limit: number

  constructor(algorithms: Iterable<ChecksumAlgorithm>, limit: number) {
    super({ highWaterMark: 1 << 20 })
    for (const a of algorithms) this.#checksums.set(a, startChecksum(a))
    this.#limit = limit
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#size += chunk.length
    if (this.#size > this.#limit) {
      cb(
        new S3Error(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header',
        ),
      )
      return
    }
    this.#md5.update(chunk)
    for (const c of this.#checksums.values()) c.update(chunk)
    cb(null, chunk)
  }

  /** Bytes seen. */
  get size(): number {
    return this.#size
  }

  /** The MD5 digest; call once, after the stream ended. */
  md5(): Buffer {
    return this.#md5.digest()
  }

  /** Base64 checksums by algorithm; call once, after the stream ended. */
  checksums(): Partial<Record<ChecksumAlgorithm, string>> {
    const out: Partial<Record<ChecksumAlgorithm, string>> = {}
    for (const [a, c] of this.#checksums) out[a] = c.digest().toString('base64')
    return out
  }
}

/** Checksums as XML elements: `{ ChecksumCRC32: '…' }` (CopyObjectResult, ListParts, …). */
export function checksumElements(
  checksums: Partial<Record<ChecksumAlgorithm, string>>,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [algorithm, value] of Object.entries(checksums)) out[`Checksum${algorithm}`] = value
  return out
}

/** Checksums as response headers: `{ 'x-amz-checksum-crc32': '…' }`. */
export function checksumHeaders(
  checksums: Partial<Record<ChecksumAlgorithm, string>>,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [algorithm, value] of Object.entries(checksums))
    out[checksumHeader(algorithm as ChecksumAlgorithm)] = value
  return out
}
