import { isPublicPolicy, parseBucketPolicy } from '../../access/index.js'
import { bucketRecordOf } from '../access-control.js'
import { changeEvent, commitment, configRemovedEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'

/**
 * The largest body PutBucketPolicy reads. The 20 KB limit AWS documents counts the document
 * without whitespace, so a pretty-printed policy may be larger on the wire.
 */
const MAX_POLICY_BODY = 256 * 1024

function noSuchBucketPolicy(name: string): S3Error {
  return new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: name })
}

/**
 * PutBucketPolicy: validates the document for this bucket (AWS's `MalformedPolicy` messages,
 * `PolicyTooLarge` over 20 KB), refuses a public policy while BlockPublicPolicy is on, and
 * stores it as sent. Bad documents change nothing.
 */
export async function putBucketPolicy(ctx: RequestContext): Promise<void> {
  const name = ctx.s3.bucket as string
  let body: Buffer
  try {
    body = await readSmallBody(ctx, MAX_POLICY_BODY)
  } catch (err) {
    if (
      err instanceof S3Error &&
      (err.code === 'InvalidRequest' || err.code === 'EntityTooLarge')
    ) {
      throw new S3Error('PolicyTooLarge', 'Policy exceeds the maximum allowed document size.')
    }
    throw err
  }
  if (body.length === 0) {
    throw new S3Error('MissingRequestBodyError', 'Request Body is empty')
  }
  const parsed = parseBucketPolicy(body.toString('utf8'), name)
  if (!parsed.ok) throw new S3Error(parsed.problem.code, parsed.problem.message)
  const record = await bucketRecordOf(ctx)
  if (record.publicAccessBlock?.blockPublicPolicy === true && isPublicPolicy(parsed.policy)) {
    throw S3Errors.accessDenied()
  }
  const event = await changeEvent(ctx, {
    type: 'bucket.config',
    setting: 'policy',
    config: await commitment(ctx, parsed.policy.text),
  })
  await ctx.deps.cell.meta.setBucketPolicy(name, parsed.policy.text, event)
  sendEmpty(ctx.res, 204)
}

/** GetBucketPolicy: the document as it was put, or `NoSuchBucketPolicy` (404). */
export async function getBucketPolicy(ctx: RequestContext): Promise<void> {
  const record = await bucketRecordOf(ctx)
  const text = record.policy ?? null
  if (text === null) throw noSuchBucketPolicy(record.name)
  const bytes = Buffer.from(text, 'utf8')
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length })
  ctx.res.end(bytes)
}

/** DeleteBucketPolicy: removes the policy; 204 whether or not there was one. */
export async function deleteBucketPolicy(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketPolicy(
    ctx.s3.bucket as string,
    null,
    await configRemovedEvent(ctx, 'policy'),
  )
  sendEmpty(ctx.res, 204)
}

/** GetBucketPolicyStatus: whether the policy makes the bucket public, as AWS judges it. */
export async function getBucketPolicyStatus(ctx: RequestContext): Promise<void> {
  const record = await bucketRecordOf(ctx)
  const text = record.policy ?? null
  if (text === null) throw noSuchBucketPolicy(record.name)
  const parsed = parseBucketPolicy(text, record.name)
  const isPublic = parsed.ok && isPublicPolicy(parsed.policy)
  sendXml(ctx.res, 200, 'PolicyStatus', { IsPublic: isPublic })
}
