import type { DeleteObjectOptions, DeleteObjectResult } from '../../meta/index.js'
import { newVersionId } from '../../meta/index.js'
import { bucketRecordOf, findBucketRecord } from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import type { RequestContext } from '../context.js'
import { bypassGovernanceOf } from '../object-lock.js'
import { sendEmpty } from '../response.js'
import { checkVersionId } from '../versioning.js'
import { removeBlobs } from './store-object.js'

/**
 * Deletes one key as the bucket's versioning state says: with `versionId`, that version for good
 * (refused with `AccessDenied` while Object Lock protects it, unless `bypassGovernance` lifts a
 * GOVERNANCE retention);
 * else in a versioned bucket a delete marker (a fresh id when Enabled, the `null` version when
 * Suspended), in an unversioned one the object. Orphaned blobs go after the commit.
 */
export async function deleteVersioned(
  ctx: RequestContext,
  key: string,
  versionId: string | undefined,
  bypassGovernance = false,
): Promise<DeleteObjectResult> {
  const bucket = ctx.s3.bucket as string
  let options: DeleteObjectOptions = {}
  if (versionId !== undefined) {
    options = { versionId: checkVersionId(versionId) }
  } else {
    const status = (await findBucketRecord(ctx, bucket))?.versioning ?? null
    if (status !== null) {
      const now = ctx.deps.now()
      options = {
        marker: { versionId: status === 'Enabled' ? newVersionId(now) : null, lastModified: now },
      }
    }
  }
  const event = await changeEvent(ctx, {
    type: 'object.delete',
    key: await commitment(ctx, key),
    ...(options.marker !== undefined
      ? { versionId: options.marker.versionId ?? 'null', deleteMarker: true }
      : options.versionId !== undefined
        ? { versionId: options.versionId }
        : {}),
  })
  // Object Lock is judged by the store, at the server's clock, in the same transaction.
  const result = await ctx.deps.cell.meta.deleteObject(bucket, key, {
    ...options,
    ...event,
    now: ctx.deps.now(),
    bypassGovernance,
  })
  await removeBlobs(
    ctx,
    result.orphaned.map((p) => p.ref),
  )
  return result
}

/**
 * DeleteObject: 204 whether or not the key (or version) existed, as S3 answers, with
 * `x-amz-version-id` and `x-amz-delete-marker` when a version was named or a marker written.
 */
export async function deleteObject(ctx: RequestContext): Promise<void> {
  const versionId = ctx.s3.query.get('versionId') ?? undefined
  const key = ctx.s3.key as string
  const bypass = await bypassGovernanceOf(ctx, await bucketRecordOf(ctx), key)
  const result = await deleteVersioned(ctx, key, versionId, bypass)
  const headers: Record<string, string> = {}
  const marker = versionId === undefined && result.deleteMarker
  if (versionId !== undefined || marker) {
    headers['x-amz-version-id'] = versionId ?? result.versionId ?? 'null'
  }
  if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true'
  sendEmpty(ctx.res, 204, headers)
}
