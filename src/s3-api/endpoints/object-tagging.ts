import type { ObjectRecord, Tag } from '../../meta/index.js'
import { changeEvent, commitment, recordRead } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { parseTaggingXml, tagSetXml, tagsCanonical } from '../tags.js'
import { objectOrError, versionHeader, versionIdParam } from '../versioning.js'

/** The largest `Tagging` document read (10 tags of 128 + 256 characters fit many times over). */
const MAX_TAGGING_BODY = 64 * 1024

/** The object version named by the request (`versionId`, else the current one). */
async function taggedObject(ctx: RequestContext): Promise<ObjectRecord> {
  const versionId = versionIdParam(ctx)
  const key = ctx.s3.key as string
  const found = await ctx.deps.cell.meta.getVersion(ctx.s3.bucket as string, key, {
    ...(versionId === undefined ? {} : { versionId }),
  })
  return objectOrError(found, key, versionId, ctx.req.method ?? 'GET')
}

/** Replaces the version's tags in place, with its `object.tagging` event in the same commit. */
async function setTags(
  ctx: RequestContext,
  record: ObjectRecord,
  tags: readonly Tag[],
): Promise<void> {
  const key = ctx.s3.key as string
  const event = await changeEvent(ctx, {
    type: 'object.tagging',
    key: await commitment(ctx, key),
    ...(tags.length === 0 ? {} : { tags: await commitment(ctx, tagsCanonical(tags)) }),
  })
  await ctx.deps.cell.meta.setObjectTags(ctx.s3.bucket as string, key, tags, {
    ...event,
    versionId: record.versionId ?? 'null',
  })
}

/** `x-amz-version-id` of the version tagged, when it has an id or was named. */
function versionOf(ctx: RequestContext, record: ObjectRecord): Record<string, string> {
  return versionHeader(record.versionId, ctx.s3.query.get('versionId') ?? undefined)
}

/**
 * PutObjectTagging: replaces the whole tag set (an empty `TagSet` removes it). Bad documents
 * and tags are refused before anything changes (`MalformedXML`, `InvalidTag`, `BadRequest`).
 */
export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx)
  const tags = parseTaggingXml(await readSmallBody(ctx, MAX_TAGGING_BODY), 'object')
  await setTags(ctx, record, tags)
  sendEmpty(ctx.res, 200, versionOf(ctx, record))
}

/** GetObjectTagging: the tag set, empty when the object has none (logged like a HEAD). */
export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx)
  await recordRead(ctx, { type: 'object.head', key: await commitment(ctx, record.key) })
  sendXml(ctx.res, 200, 'Tagging', tagSetXml(record.tags ?? []), versionOf(ctx, record))
}

/** DeleteObjectTagging: removes every tag; 204 as S3 answers. */
export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx)
  await setTags(ctx, record, [])
  sendEmpty(ctx.res, 204, versionOf(ctx, record))
}
