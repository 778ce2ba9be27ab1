import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EtagHasher } from './etag-hasher.js'
import { localHash, offThreadHash, type StreamHash } from './off-thread-hash.js'

describe('hashes on the hashing worker', () => {
  it('equal node:crypto digests, across 1 MiB batch boundaries and with hashes interleaved', async () => {
    const data = randomBytes(2.5 * 1024 * 1024 + 7)
    const expectedMd5 = createHash('md5').update(data).digest()
    const expectedSha = createHash('sha256').update(data).digest()
    const md5 = offThreadHash('md5')
    const sha = offThreadHash('sha256')
    const empty = offThreadHash('md5')
    // Uneven chunks (as streams deliver them), one of them larger than a batch.
    for (const [start, end] of [
      [0, 1],
      [1, 65_536],
      [65_536, 1_500_000],
      [1_500_000, data.length],
    ] as const) {
      const chunk = data.subarray(start, end)
      md5.update(chunk)
      sha.update(chunk)
      chunk.fill(0) // the caller may reuse its buffer at once: the hash copied it
    }
    expect(await md5.digest()).toEqual(expectedMd5)
    expect(await sha.digest()).toEqual(expectedSha)
    expect(await empty.digest()).toEqual(createHash('md5').digest())
  })

  it('computes what the local hash computes, and a multipart ETag part by part', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024 + 3)]
    const whole = Buffer.concat(parts)
    const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))
    const expected = `${createHash('md5').update(md5s).digest('hex')}-2`
    for (const hashOf of [localHash, offThreadHash]) {
      const hasher = new EtagHasher(
        parts.map((p) => p.length),
        hashOf,
      )
      for (let at = 0; at < whole.length; at += 300_000) {
        hasher.update(whole.subarray(at, at + 300_000))
      }
      expect(await hasher.finish()).toEqual({ size: whole.length, etag: expected })
    }
    const single = new EtagHasher(null, offThreadHash)
    single.update(whole)
    expect(await single.finish()).toEqual({
      size: whole.length,
      etag: createHash('md5').update(whole).digest('hex'),
    })
  })

  it('drops a discarded hash without answering for it', async () => {
    const dropped = offThreadHash('sha256')
    dropped.update(randomBytes(3 * 1024 * 1024))
    dropped.discard()
    const next = offThreadHash('sha256')
    next.update(Buffer.from('abc'))
    expect((await next.digest()).toString('hex')).toBe(
      createHash('sha256').update('abc').digest('hex'),
    )
  })

  it('makes a faster producer wait (ready) instead of queueing without bound, and still digests', async () => {
    const block = randomBytes(1024 * 1024)
    const expected = createHash('md5')
    const hash = offThreadHash('md5')
    let waited = 0
    for (let i = 0; i < 40; i++) {
      block.writeUInt32BE(i, 0)
      expected.update(block)
      hash.update(block)
      const ready = hash.ready()
      let settled = false
      void ready.then(() => {
        settled = true
      })
      await Promise.resolve()
      if (!settled) waited++
      await ready
    }
    expect(await hash.digest()).toEqual(expected.digest())
    // 40 MiB posted at memory speed against MD5's few hundred MB/s: the producer had to wait.
    expect(waited).toBeGreaterThan(0)
  })

  it('stays right with more hashes in progress than shared slots (own buffers), and after discards', async () => {
    // 24 hashes each holding a partly filled batch: more than the 16 shared slots, so some
    // fill buffers of their own; a discarded hash gives its slot back.
    const datas = Array.from({ length: 24 }, () => randomBytes(1.5 * 1024 * 1024 + 11))
    const dropped = Array.from({ length: 4 }, () => offThreadHash('md5'))
    for (const d of dropped) d.update(randomBytes(512 * 1024))
    const hashes = datas.map(() => offThreadHash('md5'))
    for (const [start, end] of [
      [0, 700_000],
      [700_000, 1_200_000],
      [1_200_000, Number.POSITIVE_INFINITY],
    ] as const) {
      for (const [i, data] of datas.entries()) {
        const hash = hashes[i] as StreamHash
        hash.update(data.subarray(start, end))
        await hash.ready()
      }
    }
    for (const d of dropped) d.discard()
    const digests = await Promise.all(hashes.map((h) => h.digest()))
    expect(digests).toEqual(datas.map((d) => createHash('md5').update(d).digest()))
    // And the shared slots still work afterwards.
    const again = offThreadHash('sha256')
    const data = randomBytes(3 * 1024 * 1024)
    again.update(data)
    expect(await again.digest()).toEqual(createHash('sha256').update(data).digest())
  })
})
