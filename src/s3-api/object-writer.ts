import { createHash, type Hash, hash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { encryptingWrite, type ObjectIdentity, type SealedData } from '../cell/index.js'
import { isDomainError, SovraError } from '../core/index.js'
import type { KeyProvider } from '../keys/index.js'
import type { ChecksumAlgorithm } from '../meta/index.js'
import { type IncomingBody, openBody, readWholeBody } from './body.js'
import {
  assertChecksumValue,
  CHECKSUM_ALGORITHMS,
  checksumHeader,
  parseChecksumAlgorithm,
  startChecksum,
} from './checksums.js'
import type { RequestContext } from './context.js'
import { S3Error } from './s3-error.js'

/** Which checksums a write must compute, and the values the client expects. */
export interface ChecksumRequest {
  readonly algorithms: readonly ChecksumAlgorithm[]
  /** Values sent as headers (base64). */
  readonly expected: Partial<Record<ChecksumAlgorithm, string>>
  /** An algorithm whose value arrives as a trailer. */
  readonly trailer: ChecksumAlgorithm | null
}

/** Reads the checksum headers of a write; several different checksum values get `InvalidRequest`. */
export function checksumRequestOf(headers: IncomingHttpHeaders): ChecksumRequest {
  const algorithms = new Set<ChecksumAlgorithm>()
  const expected: Partial<Record<ChecksumAlgorithm, string>> = {}
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = headers[checksumHeader(algorithm)]
    if (typeof value !== 'string') continue
    assertChecksumValue(algorithm, value)
    expected[algorithm] = value
    algorithms.add(algorithm)
  }
  if (algorithms.size > 1) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    )
  }
  let trailer: ChecksumAlgorithm | null = null
  const trailerHeader = headers['x-amz-trailer']
  if (typeof trailerHeader === 'string' && trailerHeader.trim() !== '') {
    const name = trailerHeader.trim().toLowerCase()
    if (!name.startsWith('x-amz-checksum-')) {
      throw new S3Error('InvalidRequest', `The trailer "${name}" is not supported`)
    }
    trailer = parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length))
    algorithms.add(trailer)
  }
  const declared = headers['x-amz-sdk-checksum-algorithm'] ?? headers['x-amz-checksum-algorithm']
  if (typeof declared === 'string' && declared !== '')
    algorithms.add(parseChecksumAlgorithm(declared))
  return { algorithms: [...algorithms], expected, trailer }
}

/** Content-MD5 as raw bytes, or null; malformed values get `InvalidDigest`. */
export function contentMd5Of(headers: IncomingHttpHeaders): Buffer | null {
  const value = headers['content-md5']
  if (typeof value !== 'string') return null
  const raw = Buffer.from(value, 'base64')
  if (raw.length !== 16 || raw.toString('base64') !== value.trim()) {
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.')
  }
  return raw
}

/**
 * Bytes received, verified and sealed (encrypted under a fresh data key, `wrappedKey`): in
 * memory (small) or in a pending blob (to be committed).
 */
export type ReceivedData = SealedData

/** Who the bytes belong to and which provider wraps their data key. */
export interface SealWith {
  readonly identity: ObjectIdentity
  readonly provider: KeyProvider
}

/** The outcome of receiving one object or part body. */
export interface Received {
  readonly data: ReceivedData
  readonly size: number
  /** Lower-case md5 hex. */
  readonly md5: string
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>
}

/** Running MD5 plus S3 checksums over a stream of chunks (or over one whole body). */
export class Digest {
  /** The running MD5, started by the first `update`. */
  #md5: Hash | null = null
  /** The MD5 of a body given whole (`whole`). */
  #md5Whole: Buffer | null = null
  readonly #runs: Array<[ChecksumAlgorithm, ReturnType<typeof startChecksum>]>
  size = 0

  constructor(algorithms: readonly ChecksumAlgorithm[]) {
    this.#runs = algorithms.map((a) => [a, startChecksum(a)])
  }

  /** Feeds bytes. */
  update(chunk: Buffer): void {
    if (this.#md5Whole !== null) throw new Error('Cannot digest more bytes: the body was whole')
    this.#md5 ??= createHash('md5')
    this.size += chunk.length
    this.#md5.update(chunk)
    for (const [, run] of this.#runs) run.update(chunk)
  }

  /** Feeds a whole body, instead of any `update`: its MD5 in one call. */
  whole(body: Buffer): void {
    if (this.#md5 !== null || this.#md5Whole !== null) {
      throw new Error('Cannot digest a whole body: bytes were digested already')
    }
    this.size = body.length
    this.#md5Whole = hash('md5', body, 'buffer')
    for (const [, run] of this.#runs) run.update(body)
  }

  /** Final digests; call once. */
  finish(): { md5: Buffer; checksums: Partial<Record<ChecksumAlgorithm, string>> } {
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {}
    for (const [a, run] of this.#runs) checksums[a] = run.digest().toString('base64')
    const md5 = this.#md5Whole ?? (this.#md5 ?? createHash('md5')).digest()
    return { md5, checksums }
  }
}

/** One buffer as a source of chunks. */
async function* once(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk
}

async function* digesting(
  source: AsyncIterable<Buffer>,
  digest: Digest,
  limit: number,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buf = chunk as Buffer
    digest.update(buf)
    if (digest.size > limit) {
      throw new S3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      )
    }
    yield buf
  }
}

/**
 * Streams `source` (exactly `length` plaintext bytes) through `digest` (ETag and checksums are
 * over the plaintext) and seals it: into memory (small, when `inline`) or into a pending blob.
 * On failure nothing is left behind.
 */
export async function storeBytes(
  ctx: RequestContext,
  source: AsyncIterable<Buffer>,
  options: {
    readonly length: number
    readonly digest: Digest
    readonly inline: boolean
    readonly seal: SealWith
    /**
     * `source` is the request's decoded body: its chunks are fresh buffers of this request, hashed
     * before they are sealed and read by nothing after, so they are sealed in place.
     */
    readonly requestBody?: boolean
  },
): Promise<ReceivedData> {
  const { length, digest } = options
  try {
    return await encryptingWrite(ctx.deps.cell, digesting(source, digest, length), {
      ...options.seal,
      inline: options.inline && length <= ctx.deps.settings.inlineMaxBytes,
      chunksOwned: options.requestBody === true,
    })
  } catch (err) {
    // The blob store wraps what its source threw; the client needs the source's own S3 error.
    if (
      isDomainError(err, 'blob') &&
      err.code === 'SourceFailed' &&
      err.cause instanceof SovraError
    )
      throw err.cause
    throw err
  }
}

/**
 * Receives a PUT body: decodes and verifies it (signature, Content-MD5, checksums, length),
 * keeping small bodies in memory and streaming larger ones into a pending blob. Nothing is
 * visible until the caller commits; on any failure the pending blob is discarded.
 */
export async function receiveObject(
  ctx: RequestContext,
  options: {
    readonly maxLength: number
    readonly inline: boolean
    readonly seal: SealWith
    /** Checksums to compute even when the request names none (a multipart upload's algorithm). */
    readonly alsoCompute?: readonly ChecksumAlgorithm[]
  },
): Promise<Received> {
  const headers = ctx.req.headers
  const wanted = checksumRequestOf(headers)
  const md5Expected = contentMd5Of(headers)
  const digest = new Digest([...new Set([...wanted.algorithms, ...(options.alsoCompute ?? [])])])
  // A body to keep inline that is sent whole is read into memory at once: no stream, decoder or
  // async iterator between the socket and the cipher.
  const whole = options.inline
    ? readWholeBody(ctx, options.maxLength, ctx.deps.settings.inlineMaxBytes)
    : null
  const streamed = whole === null ? openBody(ctx, options.maxLength) : null
  const bytes = whole === null ? null : await whole
  const length = streamed === null ? (bytes as Buffer).length : streamed.length
  let data: ReceivedData
  if (bytes !== null) {
    // Kept inline (readWholeBody takes no more than inlineMaxBytes): digested, then sealed.
    digest.whole(bytes)
    // `bytes` is this request's own buffer, hashed above and read by nothing after: sealed in place.
    data = await encryptingWrite(ctx.deps.cell, once(bytes), {
      ...options.seal,
      inline: true,
      chunksOwned: true,
    })
  } else {
    data = await storeBytes(ctx, (streamed as IncomingBody).stream, {
      length,
      digest,
      inline: options.inline,
      seal: options.seal,
      requestBody: true,
    })
  }
  try {
    if (digest.size !== length) {
      throw new S3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      )
    }
    const { md5, checksums } = digest.finish()
    if (md5Expected !== null && !md5Expected.equals(md5)) {
      throw new S3Error(
        'BadDigest',
        'The Content-MD5 you specified did not match what we received.',
      )
    }
    const expected = { ...wanted.expected }
    if (wanted.trailer !== null) {
      const value = streamed?.decoder.trailers[checksumHeader(wanted.trailer)]
      if (value === undefined) {
        throw new S3Error(
          'InvalidRequest',
          `The trailer "${checksumHeader(wanted.trailer)}" was declared but not sent`,
        )
      }
      assertChecksumValue(wanted.trailer, value)
      expected[wanted.trailer] = value
    }
    for (const [algorithm, value] of Object.entries(expected) as Array<
      [ChecksumAlgorithm, string]
    >) {
      if (checksums[algorithm] !== value) {
        throw new S3Error(
          'BadDigest',
          `The ${algorithm} you specified did not match the calculated checksum.`,
        )
      }
    }
    ctx.deps.metrics.bytesIn.inc({ dc: ctx.deps.cell.dc.id, op: ctx.s3.op }, digest.size)
    return { data, size: digest.size, md5: md5.toString('hex'), checksums }
  } catch (err) {
    if (data.kind === 'pending') await data.pending.discard()
    throw err
  }
}
