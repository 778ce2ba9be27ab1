import { describe, expect, it } from 'vitest'
import { RANDOM_POOL_MAX_DRAW, randomBytesPooled } from './random-pool.js'

describe('randomBytesPooled', () => {
  it('hands out every byte once: 2,000 draws of 32 bytes across many refills are all distinct', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const b = randomBytesPooled(32)
      expect(b.length).toBe(32)
      seen.add(b.toString('hex'))
    }
    expect(seen.size).toBe(2000)
  })

  it('draws of odd sizes straddling a refill are neither zeroed nor repeated', () => {
    const draws = Array.from({ length: 500 }, (_v, i) => randomBytesPooled(1 + (i % 13) * 7))
    // A draw handed out after its bytes were zeroed would be all zeros; 8+ zero bytes by chance: 2^-64.
    for (const d of draws.filter((x) => x.length >= 8))
      expect(d.some((byte) => byte !== 0)).toBe(true)
    const long = draws.filter((x) => x.length >= 8).map((x) => x.toString('hex'))
    expect(new Set(long).size).toBe(long.length)
  })

  it('returns a buffer of its own, which the caller may zero without touching later draws', () => {
    const a = randomBytesPooled(32)
    expect(a.byteOffset).toBe(0)
    expect(a.buffer.byteLength).toBe(32)
    a.fill(0)
    expect(randomBytesPooled(32).some((byte) => byte !== 0)).toBe(true)
  })

  it('serves large and empty draws, and refuses sizes that are not whole numbers', () => {
    expect(randomBytesPooled(RANDOM_POOL_MAX_DRAW + 1).length).toBe(RANDOM_POOL_MAX_DRAW + 1)
    expect(randomBytesPooled(10_000).length).toBe(10_000)
    expect(randomBytesPooled(0).length).toBe(0)
    expect(() => randomBytesPooled(-1)).toThrow(RangeError)
    expect(() => randomBytesPooled(1.5)).toThrow(RangeError)
  })
})
