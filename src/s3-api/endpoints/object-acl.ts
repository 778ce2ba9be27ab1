import { isOwnerOnlyAcl } from '../../access/index.js'
import { canonicalize } from '../../core/index.js'
import {
  aclNotSupported,
  aclsDisabled,
  bucketRecordOf,
  checkPublicAcl,
  effectiveObjectAcl,
} from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { aclOfPutRequest, sendAcl } from './bucket-acl.js'

function versionIdOf(ctx: RequestContext): void {
  const versionId = ctx.s3.query.get('versionId')
  if (versionId !== null && versionId !== 'null') {
    throw S3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId)
  }
}

/** GetObjectAcl: the object's ACL (the bucket owner's FULL_CONTROL when ACLs are disabled). */
export async function getObjectAcl(ctx: RequestContext): Promise<void> {
  versionIdOf(ctx)
  const key = ctx.s3.key as string
  const record = await bucketRecordOf(ctx)
  const object = await ctx.deps.cell.meta.getObject(record.name, key)
  if (object === null) throw S3Errors.noSuchKey(key)
  sendAcl(ctx, effectiveObjectAcl(ctx, aclsDisabled(record) ? undefined : object.acl))
}

/**
 * PutObjectAcl: replaces the ACL of an existing object, in its row. Refused with
 * `AccessControlListNotSupported` when the bucket's ACLs are disabled (unless the ACL grants the
 * owner alone), and `AccessDenied` for a public ACL while BlockPublicAcls is on.
 */
export async function putObjectAcl(ctx: RequestContext): Promise<void> {
  versionIdOf(ctx)
  const key = ctx.s3.key as string
  const record = await bucketRecordOf(ctx)
  const object = await ctx.deps.cell.meta.getObject(record.name, key)
  if (object === null) throw S3Errors.noSuchKey(key)
  const bucketOwner = ctx.tenant.canonicalId
  const owner = object.acl?.owner ?? bucketOwner
  const acl = await aclOfPutRequest(ctx, { owner, bucketOwner })
  if (aclsDisabled(record)) {
    if (!isOwnerOnlyAcl(acl)) throw aclNotSupported()
  }
  checkPublicAcl(record, acl)
  await ctx.deps.cell.meta.setObjectAcl(
    record.name,
    key,
    owner === bucketOwner && isOwnerOnlyAcl(acl) ? null : acl,
    await changeEvent(ctx, {
      type: 'object.acl',
      key: await commitment(ctx, key),
      acl: await commitment(ctx, canonicalize(acl)),
    }),
  )
  sendEmpty(ctx.res, 200)
}
