import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  checkCompletion,
  completionAssertionsOf,
  multipartChecksumOf,
  objectChecksumOf,
} from './multipart-checksums.js'
import { S3Error } from './s3-error.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof S3Error) return err.code
    throw err
  }
  return undefined
}

const crc = (b: Buffer) => {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(b) >>> 0)
  return out.toString('base64')
}

describe('multipartChecksumOf', () => {
  it('applies S3 defaults: CRC64NVME is FULL_OBJECT, the others COMPOSITE; none without an algorithm', () => {
    expect(multipartChecksumOf({ 'x-amz-checksum-algorithm': 'crc64nvme' })).toEqual({
      algorithm: 'CRC64NVME',
      type: 'FULL_OBJECT',
    })
    for (const a of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'])
      expect(multipartChecksumOf({ 'x-amz-checksum-algorithm': a }).type).toBe('COMPOSITE')
    expect(multipartChecksumOf({})).toEqual({ algorithm: null, type: null })
  })

  it('refuses what S3 refuses with InvalidRequest', () => {
    const refused = [
      { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-type': 'FULL_OBJECT' },
      { 'x-amz-checksum-algorithm': 'SHA1', 'x-amz-checksum-type': 'FULL_OBJECT' },
      { 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' },
      { 'x-amz-checksum-type': 'COMPOSITE' },
      { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'PARTIAL' },
      { 'x-amz-checksum-algorithm': 'MD5' },
    ]
    for (const headers of refused)
      expect(codeOf(() => multipartChecksumOf(headers))).toBe('InvalidRequest')
  })
})

describe('objectChecksumOf', () => {
  const parts = [Buffer.from('hello '), Buffer.from('world')]
  it('FULL_OBJECT is the CRC of the whole object', () => {
    const sums = parts.map((p) => ({ checksum: crc(p), size: p.length }))
    expect(objectChecksumOf('CRC32', 'FULL_OBJECT', sums)).toBe(crc(Buffer.concat(parts)))
  })

  it('COMPOSITE is the checksum of the raw part checksums, suffixed with the part count', () => {
    const raw = parts.map((p) => createHash('sha256').update(p).digest())
    const sums = raw.map((r, i) => ({
      checksum: r.toString('base64'),
      size: parts[i]?.length ?? 0,
    }))
    const expected = createHash('sha256').update(Buffer.concat(raw)).digest('base64')
    expect(objectChecksumOf('SHA256', 'COMPOSITE', sums)).toBe(`${expected}-2`)
  })
})

describe('completion assertions', () => {
  const full = { algorithm: 'CRC32', type: 'FULL_OBJECT' } as const
  it('checks the type, the algorithm and the shape of a whole-object checksum', () => {
    expect(codeOf(() => completionAssertionsOf({ 'x-amz-checksum-type': 'COMPOSITE' }, full))).toBe(
      'InvalidRequest',
    )
    expect(codeOf(() => completionAssertionsOf({ 'x-amz-checksum-sha256': 'x' }, full))).toBe(
      'InvalidRequest',
    )
    expect(
      codeOf(() => completionAssertionsOf({ 'x-amz-checksum-crc32': 'AAAAAA==-2' }, full)),
    ).toBe('InvalidRequest')
    expect(
      codeOf(() =>
        completionAssertionsOf(
          { 'x-amz-checksum-crc32': 'AAAAAA==' },
          { algorithm: 'CRC32', type: 'COMPOSITE' },
        ),
      ),
    ).toBe('InvalidRequest')
    expect(completionAssertionsOf({ 'x-amz-mp-object-size': '11' }, full).size).toBe(11)
  })

  it('a differing checksum is BadDigest, a differing size InvalidRequest', () => {
    const asserted = completionAssertionsOf({ 'x-amz-checksum-crc32': 'AAAAAA==' }, full)
    expect(
      codeOf(() => checkCompletion(asserted, { size: 1, checksums: { CRC32: 'AQIDBA==' } })),
    ).toBe('BadDigest')
    expect(checkCompletion(asserted, { size: 1, checksums: { CRC32: 'AAAAAA==' } })).toBeUndefined()
    const sized = completionAssertionsOf({ 'x-amz-mp-object-size': '2' }, full)
    expect(codeOf(() => checkCompletion(sized, { size: 3, checksums: {} }))).toBe('InvalidRequest')
  })
})
