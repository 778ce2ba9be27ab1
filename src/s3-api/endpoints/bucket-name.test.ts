import { describe, expect, it } from 'vitest'
import { validateBucketName } from './bucket-name.js'

describe('validateBucketName()', () => {
  it.each(['photos', 'my-bucket.2024', 'abc', 'a'.repeat(63)])('accepts "%s"', (name) => {
    expect(() => validateBucketName(name)).not.toThrow()
  })

  it.each([
    'ab',
    'a'.repeat(64),
    'Photos',
    'bad_name',
    '-start',
    'end-',
    'a..b',
    '192.168.1.1',
    'xn--abc',
    'x-s3alias',
    'my--x-s3',
  ])('refuses "%s" with InvalidBucketName', (name) => {
    expect(() => validateBucketName(name)).toThrow(
      expect.objectContaining({ code: 'InvalidBucketName' }),
    )
  })
})
