import type { RequestContext } from '../context.js'
import { isoDate, quoteEtag } from '../object-headers.js'
import { Digest, storeBytes } from '../object-writer.js'
import { sendXml } from '../response.js'
import { copyRangeOf, resolveCopySource, sourceBytes } from './copy-source.js'
import { partNumberOf, uploadOf } from './multipart.js'
import { removeBlobs } from './store-object.js'

/** UploadPartCopy: a part made from a range of an object in this data center. */
export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const partNumber = partNumberOf(ctx)
  const upload = await uploadOf(ctx)
  const source = await resolveCopySource(ctx)
  const range = copyRangeOf(ctx, source.record.size)
  const length = range === null ? source.record.size : range.end - range.start + 1
  const digest = new Digest(upload.checksumAlgorithm === null ? [] : [upload.checksumAlgorithm])
  const data = await storeBytes(ctx, sourceBytes(ctx, source.record, range), {
    length,
    digest,
    inline: false,
  })
  if (data.kind !== 'pending') throw new Error('Part bodies are always written to blobs')
  const { md5, checksums } = digest.finish()
  await data.pending.commit()
  const etag = md5.toString('hex')
  const now = ctx.deps.now()
  try {
    const { orphaned } = await ctx.deps.cell.meta.putPart({
      uploadId: upload.uploadId,
      partNumber,
      size: digest.size,
      etag,
      lastModified: now,
      checksums,
      blob: { ref: data.pending.ref, size: digest.size },
    })
    await removeBlobs(
      ctx,
      orphaned.map((p) => p.ref),
    )
  } catch (err) {
    await removeBlobs(ctx, [data.pending.ref])
    throw err
  }
  const sums: Record<string, string> = {}
  for (const [a, v] of Object.entries(checksums)) sums[`Checksum${a}`] = v
  sendXml(ctx.res, 200, 'CopyPartResult', {
    LastModified: isoDate(now),
    ETag: quoteEtag(etag),
    ...sums,
  })
}
