import type { AclGrant, AclPermission } from '../../meta/index.js'
import { CANONICAL_ID, GROUP_URIS } from './acl-groups.js'

/** The `x-amz-grant-*` headers and the permission each grants. */
export const GRANT_HEADERS: ReadonlyArray<readonly [string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
]

/** Why grant headers were refused: the S3 code, the message and the header at fault. */
export interface GrantProblem {
  readonly code: 'InvalidArgument' | 'UnresolvableGrantByEmailAddress'
  readonly message: string
  readonly header: string
  readonly value: string
}

/**
 * Parses the `x-amz-grant-*` headers (`id="<canonical id>"`, `uri="<group>"`, comma-separated):
 * the grants in header order, null when none is present, or the problem. Email grantees are
 * refused as AWS refuses an address it cannot resolve.
 */
export function parseGrantHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): { readonly grants: AclGrant[] | null } | { readonly problem: GrantProblem } {
  let grants: AclGrant[] | null = null
  for (const [header, permission] of GRANT_HEADERS) {
    const raw = headers[header]
    if (raw === undefined) continue
    const value = Array.isArray(raw) ? raw.join(',') : raw
    grants ??= []
    for (const part of value.split(',')) {
      const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(part)
      const invalid = {
        code: 'InvalidArgument' as const,
        message: 'Invalid grant header value',
        header,
        value,
      }
      if (m === null) return { problem: invalid }
      const kind = (m[1] as string).toLowerCase()
      const name = m[2] as string
      if (kind === 'emailaddress') {
        return {
          problem: {
            code: 'UnresolvableGrantByEmailAddress',
            message: 'The email address you provided does not match any account on record.',
            header,
            value,
          },
        }
      }
      if (kind === 'id') {
        if (!CANONICAL_ID.test(name)) return { problem: { ...invalid, message: 'Invalid id' } }
        grants.push({ grantee: { type: 'CanonicalUser', id: name }, permission })
      } else {
        if (!GROUP_URIS.has(name)) return { problem: { ...invalid, message: 'Invalid group uri' } }
        grants.push({ grantee: { type: 'Group', uri: name }, permission })
      }
    }
  }
  return { grants }
}
