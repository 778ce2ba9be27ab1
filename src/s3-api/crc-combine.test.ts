import { randomBytes, randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { startChecksum } from './checksums.js'
import { type CombinableCrc, combineCrcs, isCombinableCrc } from './crc-combine.js'

function crcOf(algorithm: CombinableCrc, data: Buffer): Buffer {
  const run = startChecksum(algorithm)
  run.update(data)
  return run.digest()
}

const ALGORITHMS: CombinableCrc[] = ['CRC32', 'CRC32C', 'CRC64NVME']

describe('combineCrcs', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: the combined CRC of random parts is the CRC of their concatenation`, () => {
      for (let round = 0; round < 20; round++) {
        const parts = Array.from({ length: randomInt(1, 8) }, () => randomBytes(randomInt(0, 5000)))
        const combined = combineCrcs(
          algorithm,
          parts.map((p) => ({ crc: crcOf(algorithm, p), size: p.length })),
        )
        expect(combined.toString('hex')).toBe(
          crcOf(algorithm, Buffer.concat(parts)).toString('hex'),
        )
      }
    })

    it(`${algorithm}: equal-sized parts (the usual multipart shape) and a short last part`, () => {
      const parts = [...Array.from({ length: 5 }, () => randomBytes(4096)), randomBytes(17)]
      const combined = combineCrcs(
        algorithm,
        parts.map((p) => ({ crc: crcOf(algorithm, p), size: p.length })),
      )
      expect(combined).toEqual(crcOf(algorithm, Buffer.concat(parts)))
    })
  }

  it('agrees with itself over lengths past 4 GiB (high powers of x), without the bytes', () => {
    const a = randomBytes(100)
    const mib = Buffer.alloc(1 << 20)
    const crcMib = crcOf('CRC64NVME', mib)
    expect(
      combineCrcs('CRC64NVME', [
        { crc: crcOf('CRC64NVME', a), size: a.length },
        { crc: crcMib, size: mib.length },
        { crc: crcMib, size: mib.length },
      ]),
    ).toEqual(crcOf('CRC64NVME', Buffer.concat([a, mib, mib])))
    // The CRC of 8 GiB of zeros by doubling (one 4 GiB part twice) and by 8192 parts of 1 MiB.
    let zeros = { crc: crcMib, size: mib.length }
    for (let i = 0; i < 13; i++)
      zeros = { crc: combineCrcs('CRC64NVME', [zeros, zeros]), size: zeros.size * 2 }
    const head = { crc: crcOf('CRC64NVME', a), size: a.length }
    const manyParts = [
      head,
      ...Array.from({ length: 8192 }, () => ({ crc: crcMib, size: mib.length })),
    ]
    expect(combineCrcs('CRC64NVME', [head, zeros])).toEqual(combineCrcs('CRC64NVME', manyParts))
  })

  it('gives the CRC of nothing for no parts, and refuses a digest of the wrong width', () => {
    expect(combineCrcs('CRC32', [])).toEqual(crcOf('CRC32', Buffer.alloc(0)))
    expect(() => combineCrcs('CRC32', [{ crc: Buffer.alloc(8), size: 1 }])).toThrow(/4 bytes/)
  })

  it('knows which algorithms combine', () => {
    expect(ALGORITHMS.every(isCombinableCrc)).toBe(true)
    expect(isCombinableCrc('SHA256')).toBe(false)
    expect(isCombinableCrc('SHA1')).toBe(false)
  })
})
