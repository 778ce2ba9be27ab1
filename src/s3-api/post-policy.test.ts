import { describe, expect, it } from 'vitest'
import { checkPostPolicy, parsePostPolicy } from './post-policy.js'

const encode = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64')
const NOW = Date.UTC(2030, 0, 1)
const policy = (conditions: unknown[], expiration = '2030-01-02T00:00:00.000Z') =>
  parsePostPolicy(encode({ expiration, conditions }))

const subject = (fields: Record<string, string>, key = 'user/eva/a.png') => ({
  fields: new Map(Object.entries({ key, ...fields })),
  bucket: 'photos',
  key,
})

describe('parsePostPolicy()', () => {
  it('refuses what is not a policy with InvalidPolicyDocument', () => {
    for (const text of [
      Buffer.from('not json').toString('base64'),
      encode([1, 2]),
      encode({ conditions: [] }),
      encode({ expiration: 'tomorrow', conditions: [] }),
      encode({ expiration: '2030-01-01T00:00:00Z' }),
      encode({ expiration: '2030-01-01T00:00:00Z', conditions: [['ends-with', '$key', 'x']] }),
      encode({ expiration: '2030-01-01T00:00:00Z', conditions: [['eq', 'key', 'x']] }),
      encode({ expiration: '2030-01-01T00:00:00Z', conditions: [{ a: '1', b: '2' }] }),
      encode({ expiration: '2030-01-01T00:00:00Z', conditions: [['content-length-range', -1, 5]] }),
    ]) {
      expect(() => parsePostPolicy(text)).toThrow(
        expect.objectContaining({ code: 'InvalidPolicyDocument' }),
      )
    }
  })
})

describe('checkPostPolicy()', () => {
  const conditions = [
    { bucket: 'photos' },
    ['starts-with', '$key', 'user/eva/'],
    ['eq', '$X-Amz-Meta-Uuid', '14365123651274'],
    ['starts-with', '$Content-Type', 'image/'],
    ['content-length-range', '1', 1048576],
    ['starts-with', '$x-amz-meta-tag', ''],
  ]
  const ok = { 'x-amz-meta-uuid': '14365123651274', 'content-type': 'image/png,image/jpeg' }

  it('passes a form that meets every condition and returns the size range', () => {
    expect(checkPostPolicy(policy(conditions), subject(ok), NOW)).toEqual({ min: 1, max: 1048576 })
    // x-ignore- fields and the signature fields need no condition; a starts-with "" field may be absent or anything.
    expect(
      checkPostPolicy(
        policy(conditions),
        subject({
          ...ok,
          'x-ignore-a': '1',
          policy: 'p',
          'x-amz-signature': 's',
          'x-amz-meta-tag': 'x',
        }),
        NOW,
      ),
    ).not.toBeNull()
  })

  it('refuses with AccessDenied "Invalid according to Policy: …" as AWS words it', () => {
    const denied = (message: string) => expect.objectContaining({ code: 'AccessDenied', message })
    expect(() =>
      checkPostPolicy(policy(conditions, '2029-12-31T23:59:59Z'), subject(ok), NOW),
    ).toThrow(denied('Invalid according to Policy: Policy expired.'))
    expect(() => checkPostPolicy(policy(conditions), subject(ok, 'user/bob/a.png'), NOW)).toThrow(
      denied(
        'Invalid according to Policy: Policy Condition failed: ["starts-with","$key","user/eva/"]',
      ),
    )
    expect(() =>
      checkPostPolicy(policy(conditions), { ...subject(ok), bucket: 'other' }, NOW),
    ).toThrow(denied('Invalid according to Policy: Policy Condition failed: {"bucket":"photos"}'))
    expect(() =>
      checkPostPolicy(
        policy(conditions),
        subject({ ...ok, 'content-type': 'image/png, text/html' }),
        NOW,
      ),
    ).toThrow(expect.objectContaining({ code: 'AccessDenied' }))
    expect(() =>
      checkPostPolicy(policy(conditions), subject({ 'content-type': 'image/png' }), NOW),
    ).toThrow(expect.objectContaining({ code: 'AccessDenied' }))
    expect(() =>
      checkPostPolicy(
        policy(conditions),
        subject({ ...ok, 'x-amz-meta-extra': '1', acl: 'private' }),
        NOW,
      ),
    ).toThrow(denied('Invalid according to Policy: Extra input fields: x-amz-meta-extra, acl'))
  })
})
