export { aclPermits, isOwnerOnlyAcl, isPublicAcl } from './acl-check.js'
export {
  ACL_PERMISSIONS,
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANONICAL_ID,
  GROUP_URIS,
  LOG_DELIVERY,
} from './acl-groups.js'
export { CANNED_ACLS, type CannedAcl, cannedAcl, isCannedAcl } from './canned-acl.js'
export { GRANT_HEADERS, type GrantProblem, parseGrantHeaders } from './grant-headers.js'
