import { describe, expect, it } from 'vitest'
import type { Requester } from '../policy/index.js'
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  aclPermits,
  cannedAcl,
  isOwnerOnlyAcl,
  isPublicAcl,
  parseGrantHeaders,
} from './index.js'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const tenantB: Requester = { kind: 'tenant', id: 't-00000000000000bb', canonicalId: B }
const anon: Requester = { kind: 'anonymous' }
const open = { ignorePublic: false }

describe('canned ACLs', () => {
  it('expand as AWS documents them', () => {
    expect(cannedAcl('private', { owner: A, bucketOwner: A })).toEqual({
      owner: A,
      grants: [{ grantee: { type: 'CanonicalUser', id: A }, permission: 'FULL_CONTROL' }],
    })
    expect(cannedAcl('public-read-write', { owner: A, bucketOwner: A }).grants.slice(1)).toEqual([
      { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' },
      { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'WRITE' },
    ])
    expect(cannedAcl('authenticated-read', { owner: A, bucketOwner: A }).grants[1]).toEqual({
      grantee: { type: 'Group', uri: AUTHENTICATED_USERS },
      permission: 'READ',
    })
    expect(cannedAcl('bucket-owner-full-control', { owner: B, bucketOwner: A }).grants).toEqual([
      { grantee: { type: 'CanonicalUser', id: B }, permission: 'FULL_CONTROL' },
      { grantee: { type: 'CanonicalUser', id: A }, permission: 'FULL_CONTROL' },
    ])
    // Written by the bucket owner, the bucket-owner ACLs are private.
    expect(isOwnerOnlyAcl(cannedAcl('bucket-owner-read', { owner: A, bucketOwner: A }))).toBe(true)
  })
})

describe('aclPermits', () => {
  it('AllUsers reaches anonymous requests, AuthenticatedUsers only signed ones', () => {
    const publicRead = cannedAcl('public-read', { owner: A, bucketOwner: A })
    expect(aclPermits(publicRead, anon, 'READ', open)).toBe(true)
    expect(aclPermits(publicRead, anon, 'WRITE', open)).toBe(false)
    expect(aclPermits(publicRead, anon, 'READ', { ignorePublic: true })).toBe(false)
    const authRead = cannedAcl('authenticated-read', { owner: A, bucketOwner: A })
    expect(aclPermits(authRead, anon, 'READ', open)).toBe(false)
    expect(aclPermits(authRead, tenantB, 'READ', open)).toBe(true)
    expect(isPublicAcl(publicRead) && isPublicAcl(authRead)).toBe(true)
  })

  it('FULL_CONTROL implies every permission; a canonical grant reaches only its tenant', () => {
    const acl = {
      owner: A,
      grants: [
        { grantee: { type: 'CanonicalUser' as const, id: B }, permission: 'FULL_CONTROL' as const },
      ],
    }
    for (const p of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const) {
      expect(aclPermits(acl, tenantB, p, open)).toBe(true)
      expect(aclPermits(acl, anon, p, open)).toBe(false)
    }
    expect(isPublicAcl(acl)).toBe(false)
  })
})

describe('parseGrantHeaders', () => {
  it('reads ids and group URIs, several per header', () => {
    const parsed = parseGrantHeaders({
      'x-amz-grant-read': `id="${B}", uri="${ALL_USERS}"`,
      'x-amz-grant-full-control': `id=${A}`,
    })
    expect(parsed).toEqual({
      grants: [
        { grantee: { type: 'CanonicalUser', id: B }, permission: 'READ' },
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' },
        { grantee: { type: 'CanonicalUser', id: A }, permission: 'FULL_CONTROL' },
      ],
    })
    expect(parseGrantHeaders({})).toEqual({ grants: null })
  })

  it('refuses email grantees, unknown groups, bad ids and garbage', () => {
    const code = (value: string) => {
      const parsed = parseGrantHeaders({ 'x-amz-grant-read': value })
      return 'problem' in parsed ? parsed.problem.code : 'ok'
    }
    expect(code('emailAddress="x@example.com"')).toBe('UnresolvableGrantByEmailAddress')
    expect(code('uri="http://acs.amazonaws.com/groups/global/Everyone"')).toBe('InvalidArgument')
    expect(code('id="123"')).toBe('InvalidArgument')
    expect(code('nonsense')).toBe('InvalidArgument')
  })
})
