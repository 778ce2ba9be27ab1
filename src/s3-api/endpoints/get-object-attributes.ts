import { commitment, recordRead } from '../audit.js'
import { checksumElements } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead, sseResponseHeaders } from '../encryption.js'
import { httpDate } from '../object-headers.js'
import { sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { objectOrError, versionHeader, versionIdParam } from '../versioning.js'
import type { XmlValue } from '../xml/render.js'

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

/**
 * GetObjectAttributes: the ETag (unquoted, as S3 sends it here), size, storage class, stored
 * checksum and, for a multipart object, its part count, without the bytes. Per-part details
 * are not kept by the store, so `ObjectParts` carries only `PartsCount`. An SSE-C object needs
 * its key, as for HEAD. Logged like a HEAD.
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
    body.ObjectParts = { PartsCount: record.partsCount }
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
