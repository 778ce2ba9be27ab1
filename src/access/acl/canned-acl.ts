import type { AccessControlList, AclGrant } from '../../meta/index.js'
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY } from './acl-groups.js'

/** The canned ACLs S3 knows (`x-amz-acl`). */
export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const
export type CannedAcl = (typeof CANNED_ACLS)[number]

/** Whether `name` is a canned ACL we know. */
export function isCannedAcl(name: string): name is CannedAcl {
  return (CANNED_ACLS as readonly string[]).includes(name)
}

const user = (id: string, permission: AclGrant['permission']): AclGrant => ({
  grantee: { type: 'CanonicalUser', id },
  permission,
})
const group = (uri: string, permission: AclGrant['permission']): AclGrant => ({
  grantee: { type: 'Group', uri },
  permission,
})

/**
 * The ACL a canned name stands for, as AWS's "Canned ACL" table defines it. `owner` owns the
 * resource; `bucketOwner` is the bucket's owner (the `bucket-owner-*` ACLs name it, and on a
 * bucket they mean `private`).
 */
export function cannedAcl(
  name: CannedAcl,
  ids: { readonly owner: string; readonly bucketOwner: string },
): AccessControlList {
  const full = user(ids.owner, 'FULL_CONTROL')
  const grants: AclGrant[] = [full]
  switch (name) {
    case 'private':
      break
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'))
      break
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'))
      break
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'))
      break
    case 'bucket-owner-read':
      if (ids.bucketOwner !== ids.owner) grants.push(user(ids.bucketOwner, 'READ'))
      break
    case 'bucket-owner-full-control':
      if (ids.bucketOwner !== ids.owner) grants.push(user(ids.bucketOwner, 'FULL_CONTROL'))
      break
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'))
      break
  }
  return { owner: ids.owner, grants }
}
