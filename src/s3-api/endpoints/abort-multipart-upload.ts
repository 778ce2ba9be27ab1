import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'
import { uploadOf } from './multipart.js'
import { removeBlobs } from './store-object.js'

/** AbortMultipartUpload: the upload and its parts' blobs go. */
export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  const upload = await uploadOf(ctx)
  const { orphaned } = await ctx.deps.cell.meta.abortMultipartUpload(upload.bucket, upload.uploadId)
  await removeBlobs(
    ctx,
    orphaned.map((p) => p.ref),
  )
  sendEmpty(ctx.res, 204)
}
