import { MAX_SINGLE_UPLOAD } from '../body.js'
import { checksumHeader } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { quoteEtag } from '../object-headers.js'
import { receiveObject } from '../object-writer.js'
import { sendEmpty } from '../response.js'
import { partNumberOf, uploadOf } from './multipart.js'
import { removeBlobs } from './store-object.js'

/** UploadPart: every part goes to its own blob; a re-sent part number replaces the earlier one. */
export async function uploadPart(ctx: RequestContext): Promise<void> {
  const partNumber = partNumberOf(ctx)
  const upload = await uploadOf(ctx)
  const received = await receiveObject(ctx, { maxLength: MAX_SINGLE_UPLOAD, inline: false })
  if (received.data.kind !== 'pending') throw new Error('Part bodies are always written to blobs')
  const pending = received.data.pending
  await pending.commit()
  try {
    const { orphaned } = await ctx.deps.cell.meta.putPart({
      uploadId: upload.uploadId,
      partNumber,
      size: received.size,
      etag: received.md5,
      lastModified: ctx.deps.now(),
      checksums: received.checksums,
      blob: { ref: pending.ref, size: received.size },
    })
    await removeBlobs(
      ctx,
      orphaned.map((p) => p.ref),
    )
  } catch (err) {
    await removeBlobs(ctx, [pending.ref])
    throw err
  }
  const headers: Record<string, string> = { etag: quoteEtag(received.md5) }
  for (const [algorithm, value] of Object.entries(received.checksums))
    headers[checksumHeader(algorithm as 'CRC32')] = value
  sendEmpty(ctx.res, 200, headers)
}
