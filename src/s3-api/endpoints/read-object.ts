import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { decryptingRead, decryptingReadInline } from '../../cell/index.js'
import type { ObjectRecord } from '../../meta/index.js'
import { commitment, readAccess, recordRead } from '../audit.js'
import { checksumHeaders } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead, sseResponseHeaders } from '../encryption.js'
import { expirationHeaders } from '../expiration-header.js'
import { httpDate, objectResponseHeaders, quoteEtag, unquoteEtag } from '../object-headers.js'
import { lockResponseHeaders } from '../object-lock.js'
import { sendEmpty } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { eventVersion, objectOrError, versionHeader, versionIdParam } from '../versioning.js'

/** A byte range, inclusive. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/**
 * Parses a Range header against an object size: `null` means "whole object" (no header, or one
 * S3 ignores); an unsatisfiable range gets `InvalidRange` (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (header === undefined) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null) return null
  const [, a = '', b = ''] = m
  if (a === '' && b === '') return null
  let start: number
  let end: number
  if (a === '') {
    const suffix = Number(b)
    if (suffix === 0) throw invalidRange(size)
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(a)
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
    if (b !== '' && Number(b) < start) return null
  }
  if (start >= size || size === 0) throw invalidRange(size)
  return { start, end }
}

function invalidRange(size: number): S3Error {
  return new S3Error('InvalidRange', 'The requested range is not satisfiable', {
    ActualObjectSize: String(size),
  })
}

function parseDate(value: string | undefined): number | null {
  if (value === undefined) return null
  const t = Date.parse(value)
  return Number.isNaN(t) ? null : t
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((v) => v.trim() === '*' || unquoteEtag(v) === etag)
}

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since as S3 does:
 * 412 `PreconditionFailed` or 304 Not Modified (returned as 'not-modified'). With `prefix`
 * `x-amz-copy-source-`, the same rules read CopyObject's source conditions.
 */
export function evaluateConditions(
  headers: IncomingHttpHeaders,
  record: ObjectRecord,
  prefix = '',
): 'ok' | 'not-modified' {
  const seconds = Math.floor(record.lastModified / 1000) * 1000
  const header = (name: string) => headers[`${prefix}${name}`] as string | undefined
  const ifMatch = header('if-match')
  const ifUnmodified = parseDate(header('if-unmodified-since'))
  const ifNoneMatch = header('if-none-match')
  const ifModified = parseDate(header('if-modified-since'))
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, record.etag)) throw S3Errors.preconditionFailed(`${prefix}If-Match`)
  } else if (ifUnmodified !== null && seconds > ifUnmodified) {
    throw S3Errors.preconditionFailed(`${prefix}If-Unmodified-Since`)
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, record.etag)) return 'not-modified'
  } else if (ifModified !== null && seconds <= ifModified) {
    return 'not-modified'
  }
  return 'ok'
}

/** The `response-*` query overrides S3 allows on signed GETs. */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
}

/**
 * Waits for the first plaintext chunk before anything is sent, so a failure in the first segment
 * (a flipped bit in a small object, a foreign data key) still gets a clean 500 `InternalError`.
 * A later failure can only cut the response short.
 */
async function primed(stream: Readable): Promise<Readable> {
  // Until the response consumes it, an error must not go unhandled; pipeline() reports it then.
  stream.on('error', () => {})
  if (stream.readableLength > 0) return stream
  await new Promise<void>((resolve, reject) => {
    const settle = (err?: Error) => {
      stream.off('readable', onReadable)
      stream.off('error', settle)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onReadable = () => settle()
    stream.on('readable', onReadable)
    stream.on('error', settle)
  })
  return stream
}

/**
 * The checksum headers of part `n` (GET/HEAD `?partNumber` with checksum mode), as S3 answers
 * them: a COMPOSITE object's part has its own checksum; a FULL_OBJECT object's only when it is
 * the object's single part (the part's CRC is then the object's); a single-part object's part 1
 * is the object. Nothing when the part's checksum was not kept.
 */
function partChecksumHeaders(record: ObjectRecord, n: number): Record<string, string> {
  const type = record.checksumType
  const whole = record.partsCount === null || (type === 'FULL_OBJECT' && record.partsCount === 1)
  const checksums = whole
    ? record.checksums
    : type === 'COMPOSITE'
      ? record.partChecksums?.[n - 1]
      : undefined
  if (checksums === undefined || type === null || Object.keys(checksums).length === 0) return {}
  return { ...checksumHeaders(checksums), 'x-amz-checksum-type': type }
}

/** GetObject and HeadObject: conditions, ranges and part numbers, then headers and (for GET) the bytes. */
export async function readObject(
  ctx: RequestContext,
  options: { readonly body: boolean },
): Promise<void> {
  const key = ctx.s3.key as string
  const q = ctx.s3.query
  const versionId = versionIdParam(ctx)
  const found = await ctx.deps.cell.meta.getVersion(ctx.s3.bucket as string, key, {
    withData: options.body,
    ...(versionId === undefined ? {} : { versionId }),
  })
  const record = objectOrError(found, key, versionId, options.body ? 'GET' : 'HEAD')
  // An SSE-C object is read (and even HEADed) only with its key.
  const customerKey = customerKeyForRead(ctx, record.encryption)
  const partParam = q.get('partNumber')
  let range: ByteRange | null
  let partHeaders: Record<string, string> = {}
  if (partParam !== null) {
    const n = Number(partParam)
    if (!/^\d+$/.test(partParam) || n < 1 || n > 10000) {
      throw S3Errors.invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        partParam,
      )
    }
    if (ctx.req.headers.range !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'Cannot specify both Range header and partNumber query parameter',
      )
    }
    const sizes = record.partSizes ?? [record.size]
    if (n > sizes.length)
      throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', {
        PartNumberRequested: String(n),
        ActualPartCount: String(sizes.length),
      })
    const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0)
    range = { start, end: start + (sizes[n - 1] as number) - 1 }
    if (record.partsCount !== null)
      partHeaders = { 'x-amz-mp-parts-count': String(record.partsCount) }
    if (String(ctx.req.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED')
      partHeaders = { ...partHeaders, ...partChecksumHeaders(record, n) }
  } else {
    range = parseRange(ctx.req.headers.range, record.size)
  }
  const checksumMode =
    String(ctx.req.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED'
  const headers = {
    ...objectResponseHeaders(record, { checksums: checksumMode && range === null }),
    ...lockResponseHeaders(record),
    ...partHeaders,
    ...sseResponseHeaders(record.encryption, customerKey),
    ...versionHeader(record.versionId, versionId),
    // The current version's scheduled expiry (a named version may not be current).
    ...(versionId === undefined ? await expirationHeaders(ctx, record) : {}),
  }
  if (evaluateConditions(ctx.req.headers, record) === 'not-modified') {
    sendEmpty(ctx.res, 304, {
      etag: quoteEtag(record.etag),
      'last-modified': httpDate(record.lastModified),
    })
    return
  }
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const value = q.get(param)
    if (value !== null) headers[header] = value
  }
  const status = range === null ? 200 : 206
  const whole = { start: 0, end: record.size - 1 }
  const r = range ?? whole
  const length = record.size === 0 ? 0 : r.end - r.start + 1
  if (range !== null) headers['content-range'] = `bytes ${range.start}-${range.end}/${record.size}`
  headers['content-length'] = String(length)
  const keyCommitment = await commitment(ctx, key)
  const event = options.body
    ? ({
        type: 'object.get',
        key: keyCommitment,
        ...eventVersion(record.versionId),
        bytes: length,
      } as const)
    : ({ type: 'object.head', key: keyCommitment } as const)
  // Opened (first key unwrapped, first segment authenticated) before any header is sent; an
  // empty object is opened too, since its envelope must authenticate. A data
  // key that a customer key service must unwrap is unwrapped only after this read's event is in
  // the log (log-before-decrypt: `access.receipt`); otherwise the read is logged as usual.
  const access = readAccess(ctx, event)
  const read = { range: r, customerKey, receipt: access.receipt }
  // An object inline in its metadata row is decrypted whole and sent in one write.
  const body = !options.body
    ? null
    : record.data.kind === 'inline'
      ? await decryptingReadInline(ctx.deps.cell, record, read)
      : await primed(await decryptingRead(ctx.deps.cell, record, read))
  if (!access.logged()) await recordRead(ctx, event)
  ctx.res.writeHead(status, headers)
  if (body === null) {
    ctx.res.end()
    return
  }
  ctx.deps.metrics.bytesOut.inc({ dc: ctx.deps.cell.dc.id, op: ctx.s3.op }, length)
  if (Buffer.isBuffer(body)) ctx.res.end(body)
  else await pipeline(body, ctx.res)
}
