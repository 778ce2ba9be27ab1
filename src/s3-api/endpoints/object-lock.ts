import type { BucketRecord, ObjectRecord } from '../../meta/index.js'
import { bucketRecordOf } from '../access-control.js'
import { changeEvent, commitment, configSetEvent, recordRead } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { isoDate } from '../object-headers.js'
import {
  bypassGovernanceOf,
  lockConfigurationXml,
  parseLegalHoldXml,
  parseLockConfigurationXml,
  parseRetentionXml,
  requireObjectLock,
} from '../object-lock.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error } from '../s3-error.js'
import { objectOrError, versionHeader, versionIdParam } from '../versioning.js'

/** The largest Object Lock document read. */
const MAX_LOCK_BODY = 64 * 1024

const bucketOf = (ctx: RequestContext): Promise<BucketRecord> => bucketRecordOf(ctx)

/**
 * PutObjectLockConfiguration: enables Object Lock (for good) and sets or clears the default
 * retention. As AWS allows since 2023, an existing bucket can enable it once its versioning is
 * Enabled; otherwise `InvalidBucketState` 409.
 */
export async function putObjectLockConfiguration(ctx: RequestContext): Promise<void> {
  const record = await bucketOf(ctx)
  const config = parseLockConfigurationXml(await readSmallBody(ctx, MAX_LOCK_BODY))
  if (record.objectLock == null && record.versioning !== 'Enabled') {
    throw new S3Error(
      'InvalidBucketState',
      "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
    )
  }
  await ctx.deps.cell.meta.setBucketObjectLock(
    record.name,
    config,
    await configSetEvent(ctx, 'object-lock', config),
  )
  sendEmpty(ctx.res, 200)
}

/** GetObjectLockConfiguration: `ObjectLockConfigurationNotFoundError` 404 while it is off. */
export async function getObjectLockConfiguration(ctx: RequestContext): Promise<void> {
  const record = await bucketOf(ctx)
  if (record.objectLock == null) {
    throw new S3Error(
      'ObjectLockConfigurationNotFoundError',
      'Object Lock configuration does not exist for this bucket',
      { BucketName: record.name },
    )
  }
  sendXml(ctx.res, 200, 'ObjectLockConfiguration', lockConfigurationXml(record.objectLock))
}

/** The version a retention or legal-hold request names, in a bucket with Object Lock. */
async function lockedVersion(
  ctx: RequestContext,
): Promise<{ bucket: BucketRecord; object: ObjectRecord; versionId: string | undefined }> {
  const bucket = await bucketOf(ctx)
  requireObjectLock(bucket)
  const versionId = versionIdParam(ctx)
  const key = ctx.s3.key as string
  const found = await ctx.deps.cell.meta.getVersion(bucket.name, key, {
    ...(versionId === undefined ? {} : { versionId }),
  })
  return {
    bucket,
    object: objectOrError(found, key, versionId, ctx.req.method ?? 'GET'),
    versionId,
  }
}

async function lockEvent(ctx: RequestContext, lock: 'retention' | 'legal-hold', config: string) {
  return changeEvent(ctx, {
    type: 'object.lock',
    key: await commitment(ctx, ctx.s3.key as string),
    lock,
    config: await commitment(ctx, config),
  })
}

/**
 * PutObjectRetention: sets, extends, shortens or (empty `Retention`) removes a version's
 * retention. The store refuses what Object Lock forbids (COMPLIANCE never shortened or removed,
 * GOVERNANCE only with `x-amz-bypass-governance-retention` and `s3:BypassGovernanceRetention`):
 * `AccessDenied`.
 */
export async function putObjectRetention(ctx: RequestContext): Promise<void> {
  const { bucket, object, versionId } = await lockedVersion(ctx)
  const now = ctx.deps.now()
  const retention = parseRetentionXml(await readSmallBody(ctx, MAX_LOCK_BODY), now)
  const bypassGovernance = await bypassGovernanceOf(ctx, bucket, object.key)
  const event = await lockEvent(
    ctx,
    'retention',
    retention === null ? '' : `${retention.mode} ${isoDate(retention.retainUntil)}`,
  )
  await ctx.deps.cell.meta.setObjectRetention(bucket.name, object.key, retention, {
    ...event,
    versionId: object.versionId ?? 'null',
    now,
    bypassGovernance,
  })
  sendEmpty(ctx.res, 200, versionHeader(object.versionId, versionId))
}

/** GetObjectRetention: `NoSuchObjectLockConfiguration` 404 when the version has none. */
export async function getObjectRetention(ctx: RequestContext): Promise<void> {
  const { object, versionId } = await lockedVersion(ctx)
  await recordRead(ctx, { type: 'object.head', key: await commitment(ctx, object.key) })
  if (object.retention == null) throw noLockConfiguration()
  sendXml(
    ctx.res,
    200,
    'Retention',
    { Mode: object.retention.mode, RetainUntilDate: isoDate(object.retention.retainUntil) },
    versionHeader(object.versionId, versionId),
  )
}

/** PutObjectLegalHold: turns a version's legal hold `ON` or `OFF`. */
export async function putObjectLegalHold(ctx: RequestContext): Promise<void> {
  const { bucket, object, versionId } = await lockedVersion(ctx)
  const on = parseLegalHoldXml(await readSmallBody(ctx, MAX_LOCK_BODY))
  const event = await lockEvent(ctx, 'legal-hold', on ? 'ON' : 'OFF')
  await ctx.deps.cell.meta.setObjectLegalHold(bucket.name, object.key, on, {
    ...event,
    versionId: object.versionId ?? 'null',
  })
  sendEmpty(ctx.res, 200, versionHeader(object.versionId, versionId))
}

/**
 * GetObjectLegalHold: the version's legal hold status, `ON` or `OFF`;
 * `NoSuchObjectLockConfiguration` 404 for a version on which no hold was ever set, as AWS.
 */
export async function getObjectLegalHold(ctx: RequestContext): Promise<void> {
  const { object, versionId } = await lockedVersion(ctx)
  await recordRead(ctx, { type: 'object.head', key: await commitment(ctx, object.key) })
  if (object.legalHold === undefined) throw noLockConfiguration()
  sendXml(
    ctx.res,
    200,
    'LegalHold',
    { Status: object.legalHold ? 'ON' : 'OFF' },
    versionHeader(object.versionId, versionId),
  )
}

/** What AWS answers for a version without the retention or legal hold asked for. */
function noLockConfiguration(): S3Error {
  return new S3Error(
    'NoSuchObjectLockConfiguration',
    'The specified object does not have a ObjectLock configuration',
  )
}
