import { MAX_SINGLE_UPLOAD } from '../body.js'
import { checksumHeaders } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead, sseResponseHeaders } from '../encryption.js'
import { checkPartAlgorithm } from '../multipart-checksums.js'
import { quoteEtag } from '../object-headers.js'
import { checksumRequestOf, receiveObject } from '../object-writer.js'
import { sendEmpty } from '../response.js'
import { partNumberOf, recordPart, uploadOf } from './multipart.js'

/**
 * UploadPart: every part goes to its own blob; a re-sent part number replaces the earlier one.
 * A part of an upload that names a checksum algorithm is checksummed in it (another is refused).
 */
export async function uploadPart(ctx: RequestContext): Promise<void> {
  const partNumber = partNumberOf(ctx)
  const upload = await uploadOf(ctx)
  // Every part of an SSE-C upload must bring the key the upload was started with.
  const customerKey = customerKeyForRead(ctx, upload.encryption)
  const algorithm = upload.checksumAlgorithm
  checkPartAlgorithm(algorithm, checksumRequestOf(ctx.req.headers).algorithms)
  const received = await receiveObject(ctx, {
    maxLength: MAX_SINGLE_UPLOAD,
    inline: false,
    // Every part of an upload that names an algorithm has its checksum, sent or not.
    alsoCompute: algorithm === null ? [] : [algorithm],
    seal: {
      identity: { bucket: upload.bucket, key: upload.key, versionId: null, partNumber },
      provider: await ctx.deps.cell.keys.wrapperFor({
        bucket: upload.bucket,
        kmsKeyArn: upload.encryption?.kmsKeyId ?? null,
        customerKey,
      }),
    },
  })
  await recordPart(ctx, {
    uploadId: upload.uploadId,
    partNumber,
    data: received.data,
    size: received.size,
    md5: received.md5,
    checksums: received.checksums,
    lastModified: ctx.deps.now(),
  })
  const headers: Record<string, string> = {
    etag: quoteEtag(received.md5),
    ...checksumHeaders(received.checksums),
    ...sseResponseHeaders(upload.encryption, customerKey),
  }
  sendEmpty(ctx.res, 200, headers)
}
