import type { ObjectRecord } from '../../meta/index.js'
import { commitment, recordRead } from '../audit.js'
import { checksumElements } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead, sseResponseHeaders } from '../encryption.js'
import { httpDate } from '../object-headers.js'
import { sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { objectOrError, versionHeader, versionIdParam } from '../versioning.js'
import type { XmlValue } from '../xml/render.js'
import { maxParam } from './list-params.js'

/** The attributes `x-amz-object-attributes` may name. */
const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'])

/** The attributes a request asks for: a comma-separated list of known names. */
function requestedAttributes(ctx: RequestContext): Set<string> {
  const header = ctx.req.headers['x-amz-object-attributes']
  const names = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '')
  if (names.length === 0) {
    throw new S3Error(
      'InvalidRequest',
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    )
  }
  for (const name of names) {
    if (!ATTRIBUTES.has(name)) {
      throw S3Errors.invalidArgument(
        'Invalid attribute name specified.',
        'x-amz-object-attributes',
        name,
      )
    }
  }
  return new Set(names)
}

/** `x-amz-max-parts`: like ListParts' `max-parts`, default and cap 1000. */
function maxPartsOf(ctx: RequestContext): number {
  const raw = ctx.req.headers['x-amz-max-parts']
  if (typeof raw !== 'string') return 1000
  return maxParam(new URLSearchParams({ 'x-amz-max-parts': raw.trim() }), 'x-amz-max-parts')
}

/** `x-amz-part-number-marker`: list the parts after this part number (default 0). */
function partNumberMarkerOf(ctx: RequestContext): number {
  const raw = ctx.req.headers['x-amz-part-number-marker']
  if (typeof raw !== 'string' || raw.trim() === '') return 0
  if (!/^\d+$/.test(raw.trim())) {
    throw S3Errors.invalidArgument(
      'Part number marker must be an integer',
      'x-amz-part-number-marker',
      raw,
    )
  }
  return Number(raw.trim())
}

/**
 * `ObjectParts` of a multipart object: `PartsCount`, and when the object has a checksum (as S3
 * answers for general purpose buckets) a page of its parts, each with its number, size and
 * checksums, paged by `x-amz-max-parts` (at most 1000) after `x-amz-part-number-marker`.
 */
function objectPartsOf(ctx: RequestContext, record: ObjectRecord): Record<string, XmlValue> {
  const count = record.partsCount ?? 0
  const checksums = record.partChecksums
  const sizes = record.partSizes
  if (checksums === undefined || checksums === null || sizes === null) {
    return { PartsCount: count }
  }
  const maxParts = maxPartsOf(ctx)
  const after = partNumberMarkerOf(ctx)
  const blobParts = record.data.kind === 'blobs' ? record.data.parts : []
  const all = sizes.map((size, i) => ({
    PartNumber: blobParts[i]?.partNumber ?? i + 1,
    Size: size,
    ...checksumElements(checksums[i] ?? {}),
  }))
  const rest = all.filter((p) => p.PartNumber > after)
  const page = rest.slice(0, maxParts)
  const last = page[page.length - 1]
  return {
    PartsCount: count,
    PartNumberMarker: after,
    NextPartNumberMarker: last?.PartNumber ?? after,
    MaxParts: maxParts,
    IsTruncated: rest.length > page.length,
    Part: page,
  }
}

/**
 * GetObjectAttributes: the ETag (unquoted, as S3 sends it here), size, storage class, stored
 * checksum and, for a multipart object, its parts (`ObjectParts`), without the bytes. An SSE-C
 * object needs its key, as for HEAD. Logged like a HEAD.
 */
export async function getObjectAttributes(ctx: RequestContext): Promise<void> {
  const wanted = requestedAttributes(ctx)
  const versionId = versionIdParam(ctx)
  const key = ctx.s3.key as string
  const found = await ctx.deps.cell.meta.getVersion(ctx.s3.bucket as string, key, {
    ...(versionId === undefined ? {} : { versionId }),
  })
  const record = objectOrError(found, key, versionId, 'GET')
  const customerKey = customerKeyForRead(ctx, record.encryption)
  const body: Record<string, XmlValue> = {}
  if (wanted.has('ETag')) body.ETag = record.etag
  if (wanted.has('Checksum') && Object.keys(record.checksums).length > 0) {
    body.Checksum = {
      ...checksumElements(record.checksums),
      ...(record.checksumType === null ? {} : { ChecksumType: record.checksumType }),
    }
  }
  if (wanted.has('ObjectParts') && record.partsCount !== null) {
    body.ObjectParts = objectPartsOf(ctx, record)
  }
  if (wanted.has('StorageClass')) body.StorageClass = 'STANDARD'
  if (wanted.has('ObjectSize')) body.ObjectSize = record.size
  await recordRead(ctx, { type: 'object.head', key: await commitment(ctx, key) })
  sendXml(ctx.res, 200, 'GetObjectAttributesResponse', body, {
    'last-modified': httpDate(record.lastModified),
    ...sseResponseHeaders(record.encryption, customerKey),
    ...versionHeader(record.versionId, versionId),
  })
}
