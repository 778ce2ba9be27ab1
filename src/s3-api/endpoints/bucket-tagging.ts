import { changeEvent, commitment, configRemovedEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { parseTaggingXml, tagSetXml, tagsCanonical } from '../tags.js'

/** The largest `Tagging` document read (50 tags of 128 + 256 characters fit many times over). */
const MAX_TAGGING_BODY = 256 * 1024

/**
 * PutBucketTagging: replaces the bucket's tag set (up to 50 tags). Bad documents and tags are
 * refused before anything changes; an empty `TagSet` leaves the bucket without tags.
 */
export async function putBucketTagging(ctx: RequestContext): Promise<void> {
  const tags = parseTaggingXml(await readSmallBody(ctx, MAX_TAGGING_BODY), 'bucket')
  const event = await changeEvent(ctx, {
    type: 'bucket.config',
    setting: 'tagging',
    ...(tags.length === 0 ? {} : { config: await commitment(ctx, tagsCanonical(tags)) }),
  })
  await ctx.deps.cell.meta.setBucketTags(
    ctx.s3.bucket as string,
    tags.length === 0 ? null : tags,
    event,
  )
  sendEmpty(ctx.res, 204)
}

/** GetBucketTagging: the tag set, or `NoSuchTagSet` (404) when none was set. */
export async function getBucketTagging(ctx: RequestContext): Promise<void> {
  const name = ctx.s3.bucket as string
  const bucket = await ctx.deps.cell.meta.getBucket(name)
  if (bucket === null) throw S3Errors.noSuchBucket(name)
  const tags = bucket.tags ?? null
  if (tags === null || tags.length === 0) {
    throw new S3Error('NoSuchTagSet', 'The TagSet does not exist', { BucketName: name })
  }
  sendXml(ctx.res, 200, 'Tagging', tagSetXml(tags))
}

/** DeleteBucketTagging: removes the tag set; 204 whether or not there was one. */
export async function deleteBucketTagging(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketTags(
    ctx.s3.bucket as string,
    null,
    await configRemovedEvent(ctx, 'tagging'),
  )
  sendEmpty(ctx.res, 204)
}
