import { describe, expect, it } from 'vitest'
import { deriveSigningKey, SigningKeyCache } from './signing-key.js'
import { SECRET } from './test-fixtures.js'

describe('deriveSigningKey', () => {
  it('matches the AWS SigV4 documentation example key', () => {
    const key = deriveSigningKey(
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20120215',
      'us-east-1',
      'iam',
    )
    expect(key.toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    )
  })
})

describe('SigningKeyCache', () => {
  it('returns the derived key and reuses it', () => {
    const cache = new SigningKeyCache(10)
    const a = cache.get(SECRET, '20130524', 'us-east-1', 's3')
    expect(a.equals(deriveSigningKey(SECRET, '20130524', 'us-east-1', 's3'))).toBe(true)
    expect(cache.get(SECRET, '20130524', 'us-east-1', 's3')).toBe(a)
    expect(cache.get(SECRET, '20130525', 'us-east-1', 's3')).not.toBe(a)
    expect(cache.get('other', '20130524', 'us-east-1', 's3')).not.toBe(a)
  })

  it('stays within its bound, evicting the oldest key', () => {
    const cache = new SigningKeyCache(3)
    const first = cache.get('s0', '20130524', 'r', 's3')
    for (let i = 1; i < 10; i++) cache.get(`s${i}`, '20130524', 'r', 's3')
    expect(cache.size).toBe(3)
    expect(cache.get('s0', '20130524', 'r', 's3')).not.toBe(first)
  })

  it('refuses a non-positive size', () => {
    expect(() => new SigningKeyCache(0)).toThrow(RangeError)
  })
})
