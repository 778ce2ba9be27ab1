/** AWS's predefined grantee groups, by URI. */
export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery'

/** The group URIs a grant may name. */
export const GROUP_URIS: ReadonlySet<string> = new Set([
  ALL_USERS,
  AUTHENTICATED_USERS,
  LOG_DELIVERY,
])

/** The permissions an ACL grant may carry. */
export const ACL_PERMISSIONS = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'] as const

/** Canonical user ids: 64 lower-case hex characters. */
export const CANONICAL_ID = /^[0-9a-f]{64}$/
