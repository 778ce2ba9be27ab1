import { configRemovedEvent, configSetEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { corsXml, parseCorsXml } from '../cors.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'

/** AWS limits a CORS configuration to 64 KB. */
const MAX_CORS_BODY = 64 * 1024

/** PutBucketCors: replaces the bucket's CORS rules; bad documents change nothing. */
export async function putBucketCors(ctx: RequestContext): Promise<void> {
  const rules = parseCorsXml(await readSmallBody(ctx, MAX_CORS_BODY))
  const event = await configSetEvent(ctx, 'cors', rules)
  await ctx.deps.cell.meta.setBucketCors(ctx.s3.bucket as string, rules, event)
  sendEmpty(ctx.res, 200)
}

/** GetBucketCors: the rules, or `NoSuchCORSConfiguration` (404) when none were set. */
export async function getBucketCors(ctx: RequestContext): Promise<void> {
  const name = ctx.s3.bucket as string
  const bucket = await ctx.deps.cell.meta.getBucket(name)
  if (bucket === null) throw S3Errors.noSuchBucket(name)
  const rules = bucket.cors ?? null
  if (rules === null) {
    throw new S3Error('NoSuchCORSConfiguration', 'The CORS configuration does not exist', {
      BucketName: name,
    })
  }
  sendXml(ctx.res, 200, 'CORSConfiguration', corsXml(rules))
}

/** DeleteBucketCors: removes the rules; 204 whether or not there were any. */
export async function deleteBucketCors(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketCors(
    ctx.s3.bucket as string,
    null,
    await configRemovedEvent(ctx, 'cors'),
  )
  sendEmpty(ctx.res, 204)
}
