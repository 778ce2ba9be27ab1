import { describe, expect, it } from 'vitest'
import { Crc64Nvme } from './crc64nvme.js'

describe('Crc64Nvme', () => {
  it('matches the CRC-64/NVME check value for "123456789"', () => {
    expect(new Crc64Nvme().update(Buffer.from('123456789')).digest().toString('hex')).toBe(
      'ae8b14860a799888',
    )
  })

  it('gives the same digest whatever the split of the input', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff))
    const whole = new Crc64Nvme().update(data).digest()
    const pieces = new Crc64Nvme()
    for (let i = 0; i < data.length; i += 7) pieces.update(data.subarray(i, i + 7))
    expect(pieces.digest()).toEqual(whole)
  })

  it('matches the value S3 documents for an empty body', () => {
    expect(new Crc64Nvme().digest().toString('base64')).toBe('AAAAAAAAAAA=')
  })
})
