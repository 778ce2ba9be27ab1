import type { IncomingHttpHeaders } from 'node:http'
import type { ChecksumAlgorithm, ObjectRecord } from '../meta/index.js'
import { CHECKSUM_ALGORITHMS, checksumHeader } from './checksums.js'
import { S3Error } from './s3-error.js'

/** Standard headers stored with an object and returned on GET/HEAD. */
export const STORED_HEADERS = [
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
] as const

/** The default Content-Type S3 gives an object uploaded without one. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream'

/** AWS limit on the total size of user metadata (names plus values). */
const MAX_USER_METADATA_BYTES = 2048

/** Keys are 1 to 1024 bytes of UTF-8. */
export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > 1024) {
    throw new S3Error('KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: '1024' })
  }
}

/** The standard headers of a request that S3 stores with the object. */
export function storedHeadersOf(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of STORED_HEADERS) {
    const v = headers[name]
    if (typeof v === 'string') out[name] = v
  }
  if (out['content-encoding'] !== undefined) {
    // aws-chunked is a transfer framing, not part of the object's encoding.
    const kept = out['content-encoding']
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
    if (kept.length === 0) delete out['content-encoding']
    else out['content-encoding'] = kept.join(',')
  }
  if (out['content-type'] === undefined) out['content-type'] = DEFAULT_CONTENT_TYPE
  return out
}

/** `x-amz-meta-*` headers, names lower-case without the prefix; over 2 KB gets `MetadataTooLarge`. */
export function userMetadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  let bytes = 0
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue
    const v = Array.isArray(value) ? value.join(',') : value
    const short = name.slice('x-amz-meta-'.length)
    out[short] = v
    bytes += Buffer.byteLength(short) + Buffer.byteLength(v)
  }
  if (bytes > MAX_USER_METADATA_BYTES) {
    throw new S3Error(
      'MetadataTooLarge',
      'Your metadata headers exceed the maximum allowed metadata size.',
      {
        Size: String(bytes),
        MaxSizeAllowed: String(MAX_USER_METADATA_BYTES),
      },
    )
  }
  return out
}

/** Quoted ETag as S3 sends it. */
export function quoteEtag(etag: string): string {
  return `"${etag}"`
}

/** Strips quotes (and a weak prefix) from an ETag a client sent. */
export function unquoteEtag(value: string): string {
  let v = value.trim()
  if (v.startsWith('W/')) v = v.slice(2)
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
  return v
}

/** RFC 7231 date for Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString()
}

/** ISO 8601 with milliseconds, as S3 XML uses. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString()
}

/** The response headers describing an object (GET and HEAD). */
export function objectResponseHeaders(
  record: ObjectRecord,
  options: { readonly checksums: boolean },
): Record<string, string> {
  const headers: Record<string, string> = {
    etag: quoteEtag(record.etag),
    'last-modified': httpDate(record.lastModified),
    'accept-ranges': 'bytes',
  }
  for (const [name, value] of Object.entries(record.headers)) headers[name] = value
  for (const [name, value] of Object.entries(record.userMetadata))
    headers[`x-amz-meta-${name}`] = value
  if (record.tags !== undefined && record.tags.length > 0) {
    headers['x-amz-tagging-count'] = String(record.tags.length)
  }
  if (options.checksums) {
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = record.checksums[algorithm]
      if (value !== undefined) headers[checksumHeader(algorithm)] = value
    }
    if (record.checksumType !== null && Object.keys(record.checksums).length > 0) {
      headers['x-amz-checksum-type'] = record.checksumType
    }
  }
  return headers
}

/** Algorithms with a stored checksum, for listings. */
export function checksumAlgorithmsOf(record: {
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>
}): ChecksumAlgorithm[] {
  return CHECKSUM_ALGORITHMS.filter((a) => record.checksums[a] !== undefined)
}
