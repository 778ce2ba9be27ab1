import { cannedAcl, isOwnerOnlyAcl } from '../../access/index.js'
import type { AccessControlList } from '../../meta/index.js'
import {
  aclNotSupported,
  aclsDisabled,
  bucketRecordOf,
  checkPublicAcl,
  requestedAcl,
} from '../access-control.js'
import { aclXml, parseAclXml } from '../acl-xml.js'
import { configSetEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'
import { S3Error } from '../s3-error.js'

/** AWS limits an ACL document to 64 KB of XML. */
export const MAX_ACL_BODY = 64 * 1024

/** Display names of the tenants an ACL names: the owner's and the requester's are known here. */
export function displayNamesOf(ctx: RequestContext): (id: string) => string | undefined {
  return (id) => {
    if (id === ctx.tenant.canonicalId) return ctx.tenant.name
    if (ctx.requester.kind === 'tenant' && id === ctx.requester.tenant.canonicalId) {
      return ctx.requester.tenant.name
    }
    return undefined
  }
}

/** Sends an ACL document. */
export function sendAcl(ctx: RequestContext, acl: AccessControlList): void {
  const text = aclXml(acl, displayNamesOf(ctx))
  ctx.res.writeHead(200, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
  })
  ctx.res.end(text)
}

/**
 * The ACL a Put…Acl request sets: the canned or header grants, else the AccessControlPolicy
 * body (both: `UnexpectedContent`, as AWS answers a body next to ACL headers).
 */
export async function aclOfPutRequest(
  ctx: RequestContext,
  ids: { readonly owner: string; readonly bucketOwner: string },
): Promise<AccessControlList> {
  const fromHeaders = requestedAcl(ctx.req.headers, ids)
  const body = await readSmallBody(ctx, MAX_ACL_BODY)
  if (fromHeaders !== null) {
    if (body.length > 0) {
      throw new S3Error('UnexpectedContent', 'This request does not support content')
    }
    return fromHeaders.acl
  }
  if (body.length === 0) {
    throw new S3Error('MissingRequestBodyError', 'Request Body is empty')
  }
  return parseAclXml(body, ids.owner)
}

/** GetBucketAcl: the bucket's ACL (the owner's FULL_CONTROL when none was set, or ACLs are off). */
export async function getBucketAcl(ctx: RequestContext): Promise<void> {
  const record = await bucketRecordOf(ctx)
  const owner = ctx.tenant.canonicalId
  const acl =
    aclsDisabled(record) || record.acl == null
      ? cannedAcl('private', { owner, bucketOwner: owner })
      : record.acl
  sendAcl(ctx, acl)
}

/**
 * PutBucketAcl: replaces the bucket's ACL. With Object Ownership BucketOwnerEnforced only an ACL
 * that grants the owner alone is accepted (`AccessControlListNotSupported` otherwise), and a
 * public ACL is refused while BlockPublicAcls is on.
 */
export async function putBucketAcl(ctx: RequestContext): Promise<void> {
  const record = await bucketRecordOf(ctx)
  const owner = ctx.tenant.canonicalId
  const acl = await aclOfPutRequest(ctx, { owner, bucketOwner: owner })
  if (aclsDisabled(record) && !isOwnerOnlyAcl(acl)) throw aclNotSupported()
  checkPublicAcl(record, acl)
  const stored = isOwnerOnlyAcl(acl) ? null : acl
  await ctx.deps.cell.meta.setBucketAcl(record.name, stored, await configSetEvent(ctx, 'acl', acl))
  sendEmpty(ctx.res, 200)
}
