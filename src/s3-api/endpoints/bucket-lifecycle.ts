import { configRemovedEvent, configSetEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { lifecycleXml, parseLifecycleXml, TRANSITION_MINIMUM_HEADER } from '../lifecycle.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'

/** The largest lifecycle document read (1000 rules fit with room to spare). */
const MAX_LIFECYCLE_BODY = 1024 * 1024

/**
 * PutBucketLifecycleConfiguration: replaces the bucket's lifecycle rules (a `bucket.config`
 * ledger event with `setting: lifecycle`); a bad document changes nothing.
 */
export async function putBucketLifecycle(ctx: RequestContext): Promise<void> {
  const minimum = ctx.req.headers[TRANSITION_MINIMUM_HEADER]
  const config = parseLifecycleXml(
    await readSmallBody(ctx, MAX_LIFECYCLE_BODY),
    typeof minimum === 'string' ? minimum : undefined,
  )
  const event = await configSetEvent(ctx, 'lifecycle', config)
  await ctx.deps.cell.meta.setBucketLifecycle(ctx.s3.bucket as string, config, event)
  sendEmpty(ctx.res, 200, {
    [TRANSITION_MINIMUM_HEADER]: config.transitionDefaultMinimumObjectSize,
  })
}

/**
 * GetBucketLifecycleConfiguration: the rules as stored, or `NoSuchLifecycleConfiguration` (404)
 * when none are set.
 */
export async function getBucketLifecycle(ctx: RequestContext): Promise<void> {
  const name = ctx.s3.bucket as string
  const meta = ctx.deps.cell.meta
  const config = await meta.getBucketLifecycle(name)
  if (config === null) {
    if ((await meta.getBucket(name)) === null) throw S3Errors.noSuchBucket(name)
    throw new S3Error(
      'NoSuchLifecycleConfiguration',
      'The lifecycle configuration does not exist',
      { BucketName: name },
    )
  }
  sendXml(ctx.res, 200, 'LifecycleConfiguration', lifecycleXml(config), {
    [TRANSITION_MINIMUM_HEADER]: config.transitionDefaultMinimumObjectSize,
  })
}

/** DeleteBucketLifecycle: removes the rules; 204 whether or not there were any. */
export async function deleteBucketLifecycle(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketLifecycle(
    ctx.s3.bucket as string,
    null,
    await configRemovedEvent(ctx, 'lifecycle'),
  )
  sendEmpty(ctx.res, 204)
}
