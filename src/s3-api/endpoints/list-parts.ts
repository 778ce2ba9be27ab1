import { checksumElements } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { isoDate, quoteEtag } from '../object-headers.js'
import { sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { maxParam } from './list-params.js'
import { uploadOf } from './multipart.js'

/** ListParts: the parts uploaded so far, paged by part number. */
export async function listParts(ctx: RequestContext): Promise<void> {
  const upload = await uploadOf(ctx)
  const q = ctx.s3.query
  const markerRaw = q.get('part-number-marker') ?? '0'
  if (!/^\d+$/.test(markerRaw))
    throw S3Errors.invalidArgument(
      'Part number marker must be an integer',
      'part-number-marker',
      markerRaw,
    )
  const maxParts = maxParam(q, 'max-parts')
  const page = await ctx.deps.cell.meta.listParts(upload.uploadId, {
    after: Number(markerRaw),
    maxParts,
  })
  const last = page.parts[page.parts.length - 1]
  const owner = { ID: ctx.tenant.canonicalId, DisplayName: ctx.tenant.name }
  sendXml(ctx.res, 200, 'ListPartsResult', {
    Bucket: upload.bucket,
    Key: upload.key,
    UploadId: upload.uploadId,
    PartNumberMarker: Number(markerRaw),
    NextPartNumberMarker: last?.partNumber ?? 0,
    MaxParts: maxParts,
    IsTruncated: page.isTruncated,
    ChecksumAlgorithm: upload.checksumAlgorithm ?? undefined,
    ChecksumType: upload.checksumType ?? undefined,
    Initiator: owner,
    Owner: owner,
    StorageClass: 'STANDARD',
    Part: page.parts.map((p) => {
      return {
        PartNumber: p.partNumber,
        LastModified: isoDate(p.lastModified),
        ETag: quoteEtag(p.etag),
        Size: p.size,
        ...checksumElements(p.checksums),
      }
    }),
  })
}
