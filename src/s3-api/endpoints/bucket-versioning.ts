import type { VersioningStatus } from '../../meta/index.js'
import { bucketRecordOf } from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { childText, parseXml } from '../xml/parse.js'

/**
 * PutBucketVersioning: `VersioningConfiguration` with `Status` `Enabled` or `Suspended` (a
 * bucket never goes back to unversioned). MFA delete is not implemented: `MfaDelete` `Enabled`
 * is refused as AWS refuses a request without MFA (`AccessDenied`), `Disabled` is accepted.
 */
export async function putBucketVersioning(ctx: RequestContext): Promise<void> {
  const root = parseXml(await readSmallBody(ctx, 64 * 1024)).VersioningConfiguration
  if (root === undefined) throw S3Errors.malformedXml()
  const status = childText(root, 'Status')
  const mfaDelete = childText(root, 'MfaDelete') ?? childText(root, 'MFADelete')
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') {
    throw S3Errors.malformedXml()
  }
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') {
    throw S3Errors.malformedXml()
  }
  if (status === undefined && mfaDelete === undefined) throw S3Errors.malformedXml()
  if (mfaDelete === 'Enabled') {
    if (ctx.req.headers['x-amz-mfa'] !== undefined) throw S3Errors.notImplemented('"x-amz-mfa"')
    throw new S3Error('AccessDenied', 'Mfa Authentication must be used for this request')
  }
  if (status !== undefined) {
    const bucket = ctx.s3.bucket as string
    // Object Lock needs versioning: AWS refuses to suspend it once a lock configuration exists.
    if (status === 'Suspended' && (await bucketRecordOf(ctx)).objectLock != null) {
      throw new S3Error(
        'InvalidBucketState',
        'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
      )
    }
    await ctx.deps.cell.meta.setBucketVersioning(
      bucket,
      status as VersioningStatus,
      await changeEvent(ctx, {
        type: 'bucket.config',
        setting: 'versioning',
        config: await commitment(ctx, status),
      }),
    )
  }
  sendEmpty(ctx.res, 200)
}

/** GetBucketVersioning: `Status` once versioning was set, an empty configuration before. */
export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  const bucket = await ctx.deps.cell.meta.getBucket(ctx.s3.bucket as string)
  if (bucket === null) throw S3Errors.noSuchBucket(ctx.s3.bucket as string)
  const status = bucket.versioning ?? null
  sendXml(ctx.res, 200, 'VersioningConfiguration', status === null ? {} : { Status: status })
}
