import type { RequestContext } from '../context.js'
import { isoDate } from '../object-headers.js'
import { sendXml } from '../response.js'
import { encodingOf, maxParam } from './list-params.js'

/** ListMultipartUploads: uploads in progress, by key then upload id. */
export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') || null
  const keyMarker = q.get('key-marker') ?? ''
  const uploadIdMarker = q.get('upload-id-marker') ?? ''
  const maxUploads = maxParam(q, 'max-uploads')
  const encode = encodingOf(q)
  const enc = encode ?? ((s: string) => s)
  const page = await ctx.deps.cell.meta.listMultipartUploads(ctx.s3.bucket as string, {
    prefix,
    delimiter,
    keyMarker: keyMarker === '' ? null : keyMarker,
    uploadIdMarker: uploadIdMarker === '' ? null : uploadIdMarker,
    maxUploads,
  })
  const owner = { ID: ctx.tenant.canonicalId, DisplayName: ctx.tenant.name }
  sendXml(ctx.res, 200, 'ListMultipartUploadsResult', {
    Bucket: ctx.s3.bucket,
    KeyMarker: enc(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker:
      page.isTruncated && page.nextKeyMarker !== null ? enc(page.nextKeyMarker) : undefined,
    NextUploadIdMarker:
      page.isTruncated && page.nextUploadIdMarker !== null ? page.nextUploadIdMarker : undefined,
    Prefix: enc(prefix),
    Delimiter: delimiter === null ? undefined : enc(delimiter),
    MaxUploads: maxUploads,
    IsTruncated: page.isTruncated,
    EncodingType: encode === null ? undefined : 'url',
    Upload: page.uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.uploadId,
      Initiator: owner,
      Owner: owner,
      StorageClass: 'STANDARD',
      Initiated: isoDate(u.initiated),
      ChecksumAlgorithm: u.checksumAlgorithm ?? undefined,
      ChecksumType: u.checksumType ?? undefined,
    })),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  })
}
