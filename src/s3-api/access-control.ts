import type { IncomingHttpHeaders } from 'node:http'
import {
  cannedAcl,
  isCannedAcl,
  isOwnerOnlyAcl,
  isPublicAcl,
  parseGrantHeaders,
} from '../access/index.js'
import type { AccessControlList, BucketRecord, ObjectOwnership } from '../meta/index.js'
import type { RequestContext } from './context.js'
import { S3Error, S3Errors } from './s3-error.js'

/** The canonical id that owns what the requester writes (anonymous writes belong to the bucket owner). */
export function writerId(ctx: RequestContext): string {
  return ctx.requester.kind === 'tenant' ? ctx.requester.tenant.canonicalId : ctx.tenant.canonicalId
}

/** The value of one header (or form field), if present. */
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/**
 * The ACL a request asks for, from `x-amz-acl` (canned) or `x-amz-grant-*` (explicit grants);
 * null when it names neither. Both at once is `InvalidRequest`, an unknown canned ACL
 * `InvalidArgument`, an email grantee `UnresolvableGrantByEmailAddress`, as AWS answers.
 */
export function requestedAcl(
  headers: IncomingHttpHeaders,
  ids: { readonly owner: string; readonly bucketOwner: string },
): { readonly acl: AccessControlList; readonly canned: string | null } | null {
  const canned = single(headers, 'x-amz-acl')
  const parsed = parseGrantHeaders(headers)
  if ('problem' in parsed) {
    const p = parsed.problem
    throw new S3Error(p.code, p.message, { ArgumentName: p.header, ArgumentValue: p.value })
  }
  if (canned !== undefined && parsed.grants !== null) {
    throw new S3Error(
      'InvalidRequest',
      'Specifying both Canned ACLs and Header Grants is not allowed',
    )
  }
  if (canned !== undefined) {
    if (!isCannedAcl(canned))
      throw S3Errors.invalidArgument(`Invalid canned ACL "${canned}"`, 'x-amz-acl', canned)
    return { acl: cannedAcl(canned, ids), canned }
  }
  if (parsed.grants === null) return null
  return { acl: { owner: ids.owner, grants: parsed.grants }, canned: null }
}

/**
 * The bucket's record in this cell, or null. The request's own bucket is the record its
 * authorization read (one read per request, not one per question asked of it).
 */
export function findBucketRecord(
  ctx: RequestContext,
  name = ctx.s3.bucket as string,
): Promise<BucketRecord | null> {
  if (ctx.bucketRecord !== undefined && ctx.bucketRecord.name === name) {
    return Promise.resolve(ctx.bucketRecord)
  }
  return ctx.deps.cell.meta.getBucket(name)
}

/** The bucket's record in this cell (as `findBucketRecord`); `NoSuchBucket` if it has gone. */
export async function bucketRecordOf(
  ctx: RequestContext,
  name = ctx.s3.bucket as string,
): Promise<BucketRecord> {
  const record = await findBucketRecord(ctx, name)
  if (record === null) throw S3Errors.noSuchBucket(name)
  return record
}

/** Whether the bucket's Object Ownership disables ACLs. */
export function aclsDisabled(record: BucketRecord): boolean {
  return record.ownership === 'BucketOwnerEnforced'
}

/** The answer to an ACL change on a bucket whose ACLs are disabled. */
export function aclNotSupported(): S3Error {
  return new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs')
}

/** Refuses a public ACL when the bucket's PublicAccessBlock has BlockPublicAcls. */
export function checkPublicAcl(record: BucketRecord, acl: AccessControlList): void {
  if (record.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(acl)) {
    throw S3Errors.accessDenied()
  }
}

/**
 * The ACL a new object gets from the write's `x-amz-acl` / `x-amz-grant-*` (a POST form's
 * fields, or the request's headers), following the bucket's Object Ownership:
 * BucketOwnerEnforced accepts only no ACL, `private` or `bucket-owner-full-control`
 * (`AccessControlListNotSupported` otherwise) and the bucket owner owns the object;
 * BucketOwnerPreferred gives the object to the bucket owner with `bucket-owner-full-control`;
 * ObjectWriter (and no controls) keeps the writer as owner. Undefined: the default (private to
 * the bucket owner), nothing to store.
 */
export async function objectAclForWrite(
  ctx: RequestContext,
  headers: IncomingHttpHeaders = ctx.req.headers,
): Promise<AccessControlList | undefined> {
  const record = await bucketRecordOf(ctx)
  const bucketOwner = ctx.tenant.canonicalId
  const canned = single(headers, 'x-amz-acl')
  const ownership: ObjectOwnership = record.ownership ?? 'ObjectWriter'
  if (ownership === 'BucketOwnerEnforced') {
    const grants = parseGrantHeaders(headers)
    const harmless =
      canned === undefined || canned === 'private' || canned === 'bucket-owner-full-control'
    if (!harmless || ('grants' in grants && grants.grants !== null)) throw aclNotSupported()
    requestedAcl(headers, { owner: bucketOwner, bucketOwner })
    return undefined
  }
  const owner =
    ownership === 'BucketOwnerPreferred' && canned === 'bucket-owner-full-control'
      ? bucketOwner
      : writerId(ctx)
  const requested = requestedAcl(headers, { owner, bucketOwner })
  const acl = requested?.acl ?? cannedAcl('private', { owner, bucketOwner })
  checkPublicAcl(record, acl)
  return owner === bucketOwner && isOwnerOnlyAcl(acl) ? undefined : acl
}

/** The ACL an object answers with: its own, or the default (the bucket owner's FULL_CONTROL). */
export function effectiveObjectAcl(
  ctx: RequestContext,
  acl: AccessControlList | undefined,
): AccessControlList {
  return (
    acl ??
    cannedAcl('private', { owner: ctx.tenant.canonicalId, bucketOwner: ctx.tenant.canonicalId })
  )
}
