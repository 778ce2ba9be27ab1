import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DekCache } from './dek-cache.js'

describe('DekCache', () => {
  it('serves a key until its TTL passes, then forgets it', () => {
    let now = 1_000
    const cache = new DekCache({ maxEntries: 10, ttlMs: 60_000 }, () => now)
    const dek = randomBytes(32)
    cache.set('a', dek)
    now += 59_999
    expect(cache.get('a')?.equals(dek)).toBe(true)
    now += 1
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('keeps at most maxEntries, evicting the least recently used', () => {
    const cache = new DekCache({ maxEntries: 2, ttlMs: 60_000 })
    cache.set('a', randomBytes(32))
    cache.set('b', randomBytes(32))
    cache.get('a')
    cache.set('c', randomBytes(32))
    expect(cache.size).toBe(2)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBeDefined()
    expect(cache.get('c')).toBeDefined()
  })

  it('holds private copies: callers cannot change a cached key, and clear() empties it', () => {
    const cache = new DekCache({ maxEntries: 2, ttlMs: 60_000 })
    const dek = randomBytes(32)
    const original = Buffer.from(dek)
    cache.set('a', dek)
    dek.fill(0)
    cache.get('a')?.fill(0)
    expect(cache.get('a')?.equals(original)).toBe(true)
    cache.clear()
    expect(cache.get('a')).toBeUndefined()
  })

  it('caches nothing with a zero TTL or size', () => {
    const cache = new DekCache({ maxEntries: 0, ttlMs: 60_000 })
    cache.set('a', randomBytes(32))
    expect(cache.get('a')).toBeUndefined()
  })
})
