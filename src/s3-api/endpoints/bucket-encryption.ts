import type { BucketEncryption } from '../../meta/index.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { checkedEncryption } from '../encryption.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { childList, childText, parseXml } from '../xml/parse.js'

/** What AWS answers for a bucket without a configuration: SSE-S3, which Sovra applies anyway. */
const DEFAULT: BucketEncryption = { algorithm: 'AES256', kmsKeyId: null, bucketKeyEnabled: false }

/**
 * PutBucketEncryption: `ServerSideEncryptionConfiguration/Rule/ApplyServerSideEncryptionByDefault`
 * with `SSEAlgorithm` `AES256` or `aws:kms` and an optional `KMSMasterKeyID` (a customer key the
 * owner registered, by id or ARN; stored as given and, as AWS, not looked up until a write uses
 * it), and `BucketKeyEnabled`. Exactly one rule, as AWS requires.
 */
export async function putBucketEncryption(ctx: RequestContext): Promise<void> {
  const body = await readSmallBody(ctx, 64 * 1024)
  const root = parseXml(body).ServerSideEncryptionConfiguration
  if (root === undefined) throw S3Errors.malformedXml()
  const rules = childList(root, 'Rule')
  if (rules.length !== 1) throw S3Errors.malformedXml()
  const rule = rules[0]
  const [apply] = childList(rule, 'ApplyServerSideEncryptionByDefault')
  const algorithm = childText(apply, 'SSEAlgorithm')
  if (apply === undefined || algorithm === undefined) throw S3Errors.malformedXml()
  const bucketKey = childText(rule, 'BucketKeyEnabled')
  if (bucketKey !== undefined && bucketKey !== 'true' && bucketKey !== 'false') {
    throw S3Errors.malformedXml()
  }
  const chosen = checkedEncryption(
    algorithm,
    childText(apply, 'KMSMasterKeyID') ?? null,
    'SSEAlgorithm',
    'KMSMasterKeyID',
  )
  await ctx.deps.cell.meta.setBucketEncryption(ctx.s3.bucket as string, {
    ...chosen,
    bucketKeyEnabled: bucketKey === 'true',
  })
  sendEmpty(ctx.res, 200)
}

/** GetBucketEncryption: the configuration set, or AWS's default (every object is encrypted). */
export async function getBucketEncryption(ctx: RequestContext): Promise<void> {
  const bucket = await ctx.deps.cell.meta.getBucket(ctx.s3.bucket as string)
  if (bucket === null) throw S3Errors.noSuchBucket(ctx.s3.bucket as string)
  const config = bucket.encryption ?? DEFAULT
  sendXml(ctx.res, 200, 'ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: config.algorithm,
        ...(config.kmsKeyId === null ? {} : { KMSMasterKeyID: config.kmsKeyId }),
      },
      BucketKeyEnabled: config.bucketKeyEnabled,
    },
  })
}

/** DeleteBucketEncryption: back to the default (objects are still encrypted with the DC's key). */
export async function deleteBucketEncryption(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketEncryption(ctx.s3.bucket as string, null)
  sendEmpty(ctx.res, 204)
}
