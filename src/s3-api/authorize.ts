import type { IncomingMessage } from 'node:http'
import {
  type AuthResult,
  aclPermits,
  type BucketPolicy,
  type ConditionContext,
  evaluatePolicy,
  isPublicPolicy,
  parseBucketPolicy,
  type Requester,
} from '../access/index.js'
import type { AclPermission, BucketRecord } from '../meta/index.js'
import type { RequestContext, S3Deps, S3Requester, S3Tenant } from './context.js'
import { PERMISSIONS, type S3Operation } from './router.js'
import { S3Error, S3Errors } from './s3-error.js'

/**
 * What another tenant or an anonymous caller may be let do, and the ACL permission that lets
 * them (on the bucket's ACL or the object's). Everything else (bucket configuration, policy,
 * PublicAccessBlock, deleting the bucket…) is the owner's alone: a policy or ACL cannot delegate
 * it (docs/access-control.md).
 */
const DELEGABLE: Partial<
  Record<
    S3Operation,
    { readonly on: 'bucket' | 'object'; readonly permission: AclPermission } | null
  >
> = {
  HeadBucket: { on: 'bucket', permission: 'READ' },
  GetBucketLocation: null,
  ListObjects: { on: 'bucket', permission: 'READ' },
  ListObjectsV2: { on: 'bucket', permission: 'READ' },
  ListObjectVersions: { on: 'bucket', permission: 'READ' },
  ListMultipartUploads: { on: 'bucket', permission: 'READ' },
  GetBucketAcl: { on: 'bucket', permission: 'READ_ACP' },
  PutBucketAcl: { on: 'bucket', permission: 'WRITE_ACP' },
  GetObject: { on: 'object', permission: 'READ' },
  HeadObject: { on: 'object', permission: 'READ' },
  GetObjectAttributes: null,
  GetObjectAcl: { on: 'object', permission: 'READ_ACP' },
  PutObjectAcl: { on: 'object', permission: 'WRITE_ACP' },
  GetObjectTagging: null,
  PutObjectTagging: null,
  DeleteObjectTagging: null,
  PutObject: { on: 'bucket', permission: 'WRITE' },
  PostObject: { on: 'bucket', permission: 'WRITE' },
  CopyObject: { on: 'bucket', permission: 'WRITE' },
  DeleteObject: { on: 'bucket', permission: 'WRITE' },
  DeleteObjects: { on: 'bucket', permission: 'WRITE' },
  CreateMultipartUpload: { on: 'bucket', permission: 'WRITE' },
  UploadPart: { on: 'bucket', permission: 'WRITE' },
  UploadPartCopy: { on: 'bucket', permission: 'WRITE' },
  CompleteMultipartUpload: { on: 'bucket', permission: 'WRITE' },
  AbortMultipartUpload: { on: 'bucket', permission: 'WRITE' },
  ListParts: null,
  // A version's Object Lock: by policy only (no ACL permission covers it), as on AWS.
  GetObjectRetention: null,
  PutObjectRetention: null,
  GetObjectLegalHold: null,
  PutObjectLegalHold: null,
}

/** The bucket policy operations its owner can always perform, even under a Deny (as AWS's root can). */
const POLICY_RESCUE = new Set<S3Operation>([
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
])

interface CachedPolicy {
  readonly text: string
  readonly policy: BucketPolicy
  readonly isPublic: boolean
}

/** Parsed policies by bucket: parsed once per stored document, not once per request. */
const policies = new Map<string, CachedPolicy>()
const MAX_CACHED_POLICIES = 10_000

/** The bucket's stored policy, parsed (cached while its text is unchanged), or null. */
export function storedPolicy(record: BucketRecord): CachedPolicy | null {
  const text = record.policy ?? null
  if (text === null) return null
  const hit = policies.get(record.name)
  if (hit !== undefined && hit.text === text) return hit
  const parsed = parseBucketPolicy(text, record.name)
  // Stored policies were validated when put; one that no longer parses grants nothing.
  if (!parsed.ok) throw new S3Error('InternalError', `Stored policy of "${record.name}" is invalid`)
  const cached = { text, policy: parsed.policy, isPublic: isPublicPolicy(parsed.policy) }
  if (policies.size >= MAX_CACHED_POLICIES) policies.clear()
  policies.set(record.name, cached)
  return cached
}

/** The requester as policies and ACLs see it. */
export function requesterOf(requester: S3Requester): Requester {
  return requester.kind === 'anonymous'
    ? requester
    : { kind: 'tenant', id: requester.tenant.id, canonicalId: requester.tenant.canonicalId }
}

/** One request's facts that authorization reads. */
export interface AccessRequest {
  readonly deps: S3Deps
  readonly req: IncomingMessage
  readonly auth: AuthResult
  readonly requester: S3Requester
  /** The bucket's owner. */
  readonly owner: S3Tenant
  /** The bucket's record in the cell (policy, ACL, ownership, public access block). */
  readonly record: BucketRecord
  readonly query: URLSearchParams
}

const LIST_OPS = new Set<S3Operation>(['ListObjects', 'ListObjectsV2', 'ListObjectVersions'])

/** The condition keys of a request, computed only when a policy asks for them. */
function conditionContext(a: AccessRequest, op: S3Operation): ConditionContext {
  const header = (name: string): readonly string[] | undefined => {
    const v = a.req.headers[name]
    return v === undefined ? undefined : Array.isArray(v) ? v : [v]
  }
  const query = (name: string): readonly string[] | undefined => {
    if (!LIST_OPS.has(op)) return undefined
    const v = a.query.get(name)
    // A listing without a prefix lists from the root: AWS sees the empty prefix.
    return v === null ? (name === 'prefix' ? [''] : undefined) : [v]
  }
  const tenant = a.requester.kind === 'tenant' ? a.requester.tenant : null
  return (key) => {
    switch (key) {
      case 'aws:securetransport':
        return ['encrypted' in a.req.socket && a.req.socket.encrypted === true ? 'true' : 'false']
      case 'aws:sourceip': {
        const ip = a.req.socket.remoteAddress
        return ip === undefined ? undefined : [ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')]
      }
      case 'aws:currenttime':
        return [new Date(a.deps.now()).toISOString()]
      case 'aws:epochtime':
        return [String(Math.floor(a.deps.now() / 1000))]
      case 'aws:principaltype':
        return [tenant === null ? 'Anonymous' : 'Account']
      case 'aws:principalaccount':
        return tenant === null ? undefined : [tenant.id]
      case 'aws:userid':
        return [tenant === null ? 'anonymous' : tenant.id]
      case 'aws:username':
        return tenant === null ? undefined : [tenant.name]
      case 'aws:referer':
        return header('referer')
      case 'aws:useragent':
        return header('user-agent')
      case 's3:prefix':
        return query('prefix')
      case 's3:delimiter':
        return query('delimiter')
      case 's3:max-keys':
        return query('max-keys')
      case 's3:versionid': {
        const v = a.query.get('versionId')
        return v === null ? undefined : [v]
      }
      case 's3:signatureversion':
        return a.auth.kind === 'signed' ? ['AWS4-HMAC-SHA256'] : undefined
      case 's3:authtype':
        if (a.auth.kind !== 'signed') return op === 'PostObject' ? ['POST'] : undefined
        return [a.auth.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER']
      default:
        return key.startsWith('s3:x-amz-') ? header(key.slice(3)) : undefined
    }
  }
}

/**
 * Whether the request may perform `action` on the bucket (`key` null) or one of its objects:
 * the one authorization rule of the S3 face.
 *
 * - An explicit Deny in the bucket policy refuses everyone, the owner too (except the owner's
 *   own Get/Put/DeleteBucketPolicy, so a policy can always be repaired).
 * - The owner may do everything else.
 * - Anyone else needs an operation that can be delegated, and an Allow in the policy (ignored
 *   when RestrictPublicBuckets is on and the policy is public) or an ACL grant (ACLs count
 *   unless Object Ownership is BucketOwnerEnforced; AllUsers/AuthenticatedUsers grants count
 *   unless IgnorePublicAcls is on).
 */
export async function mayAccess(
  a: AccessRequest,
  op: S3Operation,
  key: string | null,
  action: string = PERMISSIONS[op],
): Promise<boolean> {
  const isOwner = a.requester.kind === 'tenant' && a.requester.tenant.id === a.owner.id
  const stored = storedPolicy(a.record)
  const requester = requesterOf(a.requester)
  let decision: 'allow' | 'deny' | 'default' = 'default'
  if (stored !== null) {
    decision = evaluatePolicy(stored.policy, {
      requester,
      action,
      resource:
        key === null ? `arn:aws:s3:::${a.record.name}` : `arn:aws:s3:::${a.record.name}/${key}`,
      context: conditionContext(a, op),
    })
  }
  if (isOwner) return decision !== 'deny' || POLICY_RESCUE.has(op)
  if (decision === 'deny') return false
  const delegable = DELEGABLE[op]
  if (delegable === undefined) return false
  const block = a.record.publicAccessBlock ?? null
  if (
    decision === 'allow' &&
    !(block?.restrictPublicBuckets === true && stored?.isPublic === true)
  ) {
    return true
  }
  if (delegable === null || a.record.ownership === 'BucketOwnerEnforced') return false
  const options = { ignorePublic: block?.ignorePublicAcls === true }
  if (delegable.on === 'bucket') {
    const acl = a.record.acl ?? null
    return acl !== null && aclPermits(acl, requester, delegable.permission, options)
  }
  if (key === null) return false
  const object = await a.deps.cell.meta.getObject(a.record.name, key)
  const acl = object?.acl ?? null
  return acl !== null && aclPermits(acl, requester, delegable.permission, options)
}

/**
 * Refuses the request with `AccessDenied` unless `mayAccess` lets it through. DeleteObjects is
 * judged key by key in its handler (`s3:DeleteObject` on each object), as S3 reports each refusal
 * in its result.
 */
export async function authorize(
  a: AccessRequest,
  op: S3Operation,
  key: string | null,
): Promise<void> {
  if (op === 'DeleteObjects') return
  const action = actionOf(op, a.query.has('versionId'))
  if (!(await mayAccess(a, op, key, action))) throw S3Errors.accessDenied()
}

/**
 * The policy action S3 checks for an operation that names a version (`versionId`): reading,
 * deleting or tagging one version is its own permission (`s3:GetObjectVersion`,
 * `s3:DeleteObjectVersion`, …), so a grant of `s3:GetObject` does not reach old versions.
 */
const VERSION_ACTIONS: Partial<Record<S3Operation, string>> = {
  GetObject: 's3:GetObjectVersion',
  HeadObject: 's3:GetObjectVersion',
  DeleteObject: 's3:DeleteObjectVersion',
  GetObjectTagging: 's3:GetObjectVersionTagging',
  PutObjectTagging: 's3:PutObjectVersionTagging',
  DeleteObjectTagging: 's3:DeleteObjectVersionTagging',
  GetObjectAttributes: 's3:GetObjectVersionAttributes',
  GetObjectAcl: 's3:GetObjectVersionAcl',
  PutObjectAcl: 's3:PutObjectVersionAcl',
}

/** The action a request needs: the operation's, or its per-version one when it names a version. */
export function actionOf(op: S3Operation, namesVersion: boolean): string {
  return (namesVersion ? VERSION_ACTIONS[op] : undefined) ?? PERMISSIONS[op]
}

/** The access facts of a request already let through, for checks a handler makes per key. */
export function accessOf(ctx: RequestContext, record: BucketRecord): AccessRequest {
  return {
    deps: ctx.deps,
    req: ctx.req,
    auth: ctx.auth,
    requester: ctx.requester,
    owner: ctx.tenant,
    record,
    query: ctx.s3.query,
  }
}
