import type { ObjectRecord, Tag } from '../../meta/index.js'
import { changeEvent, commitment, recordRead } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { parseTaggingXml, tagSetXml, tagsCanonical } from '../tags.js'

/** The largest `Tagging` document read (10 tags of 128 + 256 characters fit many times over). */
const MAX_TAGGING_BODY = 64 * 1024

/** The object named by the request; `versionId` other than `null` is refused (no versioning). */
async function taggedObject(ctx: RequestContext): Promise<ObjectRecord> {
  const versionId = ctx.s3.query.get('versionId')
  if (versionId !== null && versionId !== 'null') {
    throw S3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId)
  }
  const key = ctx.s3.key as string
  const record = await ctx.deps.cell.meta.getObject(ctx.s3.bucket as string, key)
  if (record === null) throw S3Errors.noSuchKey(key)
  return record
}

/** Replaces the object's tags in place, with its `object.tagging` event in the same commit. */
async function setTags(ctx: RequestContext, tags: readonly Tag[]): Promise<void> {
  const key = ctx.s3.key as string
  const event = await changeEvent(ctx, {
    type: 'object.tagging',
    key: await commitment(ctx, key),
    ...(tags.length === 0 ? {} : { tags: await commitment(ctx, tagsCanonical(tags)) }),
  })
  await ctx.deps.cell.meta.setObjectTags(ctx.s3.bucket as string, key, tags, event)
}

/**
 * PutObjectTagging: replaces the whole tag set (an empty `TagSet` removes it). Bad documents
 * and tags are refused before anything changes (`MalformedXML`, `InvalidTag`, `BadRequest`).
 */
export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  await taggedObject(ctx)
  const tags = parseTaggingXml(await readSmallBody(ctx, MAX_TAGGING_BODY), 'object')
  await setTags(ctx, tags)
  sendEmpty(ctx.res, 200)
}

/** GetObjectTagging: the tag set, empty when the object has none (logged like a HEAD). */
export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx)
  await recordRead(ctx, { type: 'object.head', key: await commitment(ctx, record.key) })
  sendXml(ctx.res, 200, 'Tagging', tagSetXml(record.tags ?? []))
}

/** DeleteObjectTagging: removes every tag; 204 as S3 answers. */
export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  await taggedObject(ctx)
  await setTags(ctx, [])
  sendEmpty(ctx.res, 204)
}
