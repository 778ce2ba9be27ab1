import { changeEvent, commitment } from '../audit.js'
import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { removeBlobs } from './store-object.js'

/** DeleteObject: 204 whether or not the key existed, as S3 answers. */
export async function deleteObject(ctx: RequestContext): Promise<void> {
  const versionId = ctx.s3.query.get('versionId')
  if (versionId !== null && versionId !== 'null') {
    throw S3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId)
  }
  const { orphaned } = await ctx.deps.cell.meta.deleteObject(
    ctx.s3.bucket as string,
    ctx.s3.key as string,
    await changeEvent(ctx, {
      type: 'object.delete',
      key: await commitment(ctx, ctx.s3.key as string),
    }),
  )
  await removeBlobs(
    ctx,
    orphaned.map((p) => p.ref),
  )
  sendEmpty(ctx.res, 204)
}
