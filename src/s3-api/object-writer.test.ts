import { createHash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { Digest } from './object-writer.js'

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(data))
  return out.toString('base64')
}

describe('Digest', () => {
  it('gives the same MD5, size and checksums for a body given whole as for its chunks', () => {
    for (const body of [randomBytes(4096), randomBytes(1), Buffer.alloc(0)]) {
      const chunked = new Digest(['CRC32', 'SHA256'])
      chunked.update(body.subarray(0, 7))
      chunked.update(body.subarray(7))
      const whole = new Digest(['CRC32', 'SHA256'])
      whole.whole(body)
      const a = chunked.finish()
      const b = whole.finish()
      expect(b.md5.toString('hex')).toBe(createHash('md5').update(body).digest('hex'))
      expect(b.md5.equals(a.md5)).toBe(true)
      expect(b.checksums).toEqual(a.checksums)
      expect(b.checksums.CRC32).toBe(crc32Base64(body))
      expect(whole.size).toBe(body.length)
    }
  })

  it('gives the MD5 of nothing when nothing was fed, and refuses to mix a whole body with chunks', () => {
    expect(new Digest([]).finish().md5.toString('hex')).toBe('d41d8cd98f00b204e9800998ecf8427e')
    const d = new Digest([])
    d.update(Buffer.from('a'))
    expect(() => d.whole(Buffer.from('b'))).toThrow()
    const w = new Digest([])
    w.whole(Buffer.from('a'))
    expect(() => w.update(Buffer.from('b'))).toThrow()
    expect(() => w.whole(Buffer.from('b'))).toThrow()
  })
})
