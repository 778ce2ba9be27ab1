import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { commit } from '../ledger/index.js'
import { COMMITMENT_MEMO_ENTRIES, memoizedCommit } from './audit.js'

describe('memoizedCommit', () => {
  it('gives exactly the HMAC commitment, per secret: two tenants reading the same key never share one', () => {
    const a = randomBytes(32)
    const b = randomBytes(32)
    for (let round = 0; round < 3; round++) {
      for (const key of ['photos/cat.jpg', 'k', 'é/ü 1', '']) {
        expect(memoizedCommit(a, key)).toBe(commit(a, key))
        expect(memoizedCommit(b, key)).toBe(commit(b, key))
      }
    }
    expect(memoizedCommit(a, 'photos/cat.jpg')).not.toBe(memoizedCommit(b, 'photos/cat.jpg'))
    // Equal secrets in different buffers commit alike.
    expect(memoizedCommit(Buffer.from(a), 'k')).toBe(commit(a, 'k'))
  })

  it('stays exact past its bound and for values too long to remember', () => {
    const secret = randomBytes(32)
    const first = memoizedCommit(secret, 'first')
    for (let i = 0; i < COMMITMENT_MEMO_ENTRIES + 10; i++) memoizedCommit(secret, `key-${i}`)
    expect(memoizedCommit(secret, 'first')).toBe(first)
    expect(memoizedCommit(secret, `key-${COMMITMENT_MEMO_ENTRIES}`)).toBe(
      commit(secret, `key-${COMMITMENT_MEMO_ENTRIES}`),
    )
    const long = 'x'.repeat(5000)
    expect(memoizedCommit(secret, long)).toBe(commit(secret, long))
  })

  it('refuses a short secret as commit does', () => {
    expect(() => memoizedCommit(Buffer.alloc(8), 'k')).toThrow(RangeError)
  })
})
