import { changeEvent } from '../audit.js'
import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'

/**
 * DeleteBucket: refused with `BucketNotEmpty` while objects remain; destroys the bucket's
 * key-encryption keys (crypto-shredding: any stray copy of its blobs can never be decrypted),
 * then frees the name globally.
 */
export async function deleteBucket(ctx: RequestContext): Promise<void> {
  const name = ctx.s3.bucket as string
  const { orphaned } = await ctx.deps.cell.meta.deleteBucket(
    name,
    await changeEvent(ctx, { type: 'bucket.delete' }, name),
  )
  await ctx.deps.cell.blob.remove(orphaned.map((p) => p.ref))
  await ctx.deps.cell.keys.destroyBucketKeys(name)
  await ctx.deps.directory.releaseBucket(name)
  ctx.log.info({ bucket: name }, 'Bucket deleted')
  sendEmpty(ctx.res, 204)
}
