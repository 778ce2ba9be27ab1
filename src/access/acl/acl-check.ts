import type { AccessControlList, AclPermission } from '../../meta/index.js'
import type { Requester } from '../policy/index.js'
import { ALL_USERS, AUTHENTICATED_USERS } from './acl-groups.js'

/**
 * Whether an ACL grants `permission` (or FULL_CONTROL) to the requester: by canonical id, through
 * AllUsers (anyone, anonymous included) or AuthenticatedUsers (any signed request). With
 * `ignorePublic` (PublicAccessBlock's IgnorePublicAcls) grants to those two groups count for nothing.
 */
export function aclPermits(
  acl: AccessControlList,
  requester: Requester,
  permission: AclPermission,
  options: { readonly ignorePublic: boolean },
): boolean {
  for (const grant of acl.grants) {
    if (grant.permission !== permission && grant.permission !== 'FULL_CONTROL') continue
    const g = grant.grantee
    if (g.type === 'CanonicalUser') {
      if (requester.kind === 'tenant' && g.id === requester.canonicalId) return true
    } else if (!options.ignorePublic) {
      if (g.uri === ALL_USERS) return true
      if (g.uri === AUTHENTICATED_USERS && requester.kind === 'tenant') return true
    }
  }
  return false
}

/** Whether an ACL grants anything to AllUsers or AuthenticatedUsers (AWS's "public" ACL). */
export function isPublicAcl(acl: AccessControlList): boolean {
  return acl.grants.some(
    (g) =>
      g.grantee.type === 'Group' &&
      (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS),
  )
}

/** Whether the ACL grants nothing beyond the owner's FULL_CONTROL (what BucketOwnerEnforced needs). */
export function isOwnerOnlyAcl(acl: AccessControlList): boolean {
  return acl.grants.every(
    (g) =>
      g.grantee.type === 'CanonicalUser' &&
      g.grantee.id === acl.owner &&
      g.permission === 'FULL_CONTROL',
  )
}
