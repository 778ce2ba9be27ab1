import { checksumElements } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead, sseResponseHeaders } from '../encryption.js'
import { isoDate, quoteEtag } from '../object-headers.js'
import { Digest, storeBytes } from '../object-writer.js'
import { sendXml } from '../response.js'
import { copyRangeOf, resolveCopySource, sourceBytes } from './copy-source.js'
import { partNumberOf, recordPart, uploadOf } from './multipart.js'

/** UploadPartCopy: a part made from a range of an object in this data center. */
export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const partNumber = partNumberOf(ctx)
  const upload = await uploadOf(ctx)
  const customerKey = customerKeyForRead(ctx, upload.encryption)
  const source = await resolveCopySource(ctx)
  const range = copyRangeOf(ctx, source.record.size)
  const length = range === null ? source.record.size : range.end - range.start + 1
  const digest = new Digest(upload.checksumAlgorithm === null ? [] : [upload.checksumAlgorithm])
  const data = await storeBytes(ctx, await sourceBytes(ctx, source, range), {
    length,
    digest,
    inline: false,
    seal: {
      identity: { bucket: upload.bucket, key: upload.key, versionId: null, partNumber },
      provider: await ctx.deps.cell.keys.wrapperFor({
        bucket: upload.bucket,
        kmsKeyArn: upload.encryption?.kmsKeyId ?? null,
        customerKey,
      }),
    },
  })
  const { md5, checksums } = digest.finish()
  const etag = md5.toString('hex')
  const now = ctx.deps.now()
  await recordPart(ctx, {
    uploadId: upload.uploadId,
    partNumber,
    data,
    size: digest.size,
    md5: etag,
    checksums,
    lastModified: now,
  })
  sendXml(
    ctx.res,
    200,
    'CopyPartResult',
    { LastModified: isoDate(now), ETag: quoteEtag(etag), ...checksumElements(checksums) },
    sseResponseHeaders(upload.encryption, customerKey),
  )
}
