import { describe, expect, it } from 'vitest'
import {
  canonicalBytes,
  INSTRUCTION_LIMITS,
  instructionDigest,
  parseInstruction,
  parseSignedInstruction,
  parseUtcTime,
} from './instruction.js'
import { ResidencyError } from './residency-error.js'
import { sampleInstruction } from './test-fixtures.js'

/** The message parseInstruction throws for `value`, which must be an InstructionMalformed. */
function refusal(value: unknown): string {
  try {
    parseInstruction(value)
  } catch (err) {
    expect(err).toBeInstanceOf(ResidencyError)
    expect((err as ResidencyError).code).toBe('InstructionMalformed')
    return (err as ResidencyError).message
  }
  throw new Error('parseInstruction() accepted the value')
}

const prefix = 'Invalid transfer instruction field'

describe('parseInstruction()', () => {
  it('returns a valid instruction unchanged', () => {
    const instruction = sampleInstruction()
    expect(parseInstruction(JSON.parse(JSON.stringify(instruction)))).toEqual(instruction)
  })

  it('accepts an instruction without the optional purpose and legalBasis', () => {
    const { purpose: _p, legalBasis: _l, ...rest } = sampleInstruction()
    expect(parseInstruction(rest)).toEqual(rest)
  })

  it.each<[string, unknown, string]>([
    [
      'an unknown field',
      { ...sampleInstruction(), extra: true },
      `${prefix} "extra": is not a known field`,
    ],
    [
      'an unknown nested field',
      { ...sampleInstruction(), source: { dc: 'cn-hangzhou', bucket: 'orders-cn', region: 'x' } },
      `${prefix} "source.region": is not a known field`,
    ],
    [
      'a missing field',
      { ...sampleInstruction(), nonce: undefined },
      `${prefix} "nonce": is missing`,
    ],
    [
      'another type',
      { ...sampleInstruction(), type: 'x' },
      `${prefix} "type": must be "sovra.transfer-instruction", not "x"`,
    ],
    [
      'version 2',
      { ...sampleInstruction(), version: 2 },
      `${prefix} "version": must be the integer 1, not 2`,
    ],
    [
      'a version string',
      { ...sampleInstruction(), version: '1' },
      `${prefix} "version": must be the integer 1, not "1"`,
    ],
    [
      'a bad data center id',
      { ...sampleInstruction(), source: { dc: 'US West', bucket: 'orders-cn' } },
      `${prefix} "source.dc": must be a data center id such as "us-west-1", not "US West"`,
    ],
    [
      'a bad bucket name',
      { ...sampleInstruction(), destination: { dc: 'us-west-1', bucket: 'A_b' } },
      `${prefix} "destination.bucket": must be an S3 bucket name (3 to 63 of a-z 0-9 . -), not "A_b"`,
    ],
    [
      'an unknown operation',
      { ...sampleInstruction(), operation: 'sync' },
      `${prefix} "operation": must be one of "copy", "move", "migrate", not "sync"`,
    ],
    [
      'an unknown scope',
      { ...sampleInstruction(), scope: { kind: 'all' } },
      `${prefix} "scope.kind": must be one of "bucket", "prefix", "keys", not "all"`,
    ],
    [
      'a bucket scope with a prefix',
      { ...sampleInstruction(), scope: { kind: 'bucket', prefix: 'a' } },
      `${prefix} "scope.prefix": is not a known field`,
    ],
    [
      'an empty prefix',
      { ...sampleInstruction(), scope: { kind: 'prefix', prefix: '' } },
      `${prefix} "scope.prefix": must not be empty`,
    ],
    [
      'an empty key list',
      { ...sampleInstruction(), scope: { kind: 'keys', keys: [] } },
      `${prefix} "scope.keys": must list at least one key`,
    ],
    [
      'a repeated key',
      { ...sampleInstruction(), scope: { kind: 'keys', keys: ['a', 'b', 'a'] } },
      `${prefix} "scope.keys[2]": repeats an earlier key, not "a"`,
    ],
    [
      'a key that is not a string',
      { ...sampleInstruction(), scope: { kind: 'keys', keys: ['a', 7] } },
      `${prefix} "scope.keys[1]": must be a string, not 7`,
    ],
    [
      'a lone surrogate',
      { ...sampleInstruction(), purpose: 'x\ud800' },
      `${prefix} "purpose": must be valid Unicode: it has a lone surrogate`,
    ],
    [
      'a time with an offset',
      { ...sampleInstruction(), notBefore: '2025-03-01T08:00:00+08:00' },
      `${prefix} "notBefore": must be an RFC 3339 UTC time such as "2025-01-31T12:00:00Z", not "2025-03-01T08:00:00+08:00"`,
    ],
    [
      'an impossible date',
      { ...sampleInstruction(), notBefore: '2025-02-30T00:00:00Z' },
      `${prefix} "notBefore": must be an RFC 3339 UTC time such as "2025-01-31T12:00:00Z", not "2025-02-30T00:00:00Z"`,
    ],
    [
      'an empty window',
      { ...sampleInstruction(), notAfter: '2025-03-01T00:00:00Z' },
      `${prefix} "notAfter": must be later than notBefore "2025-03-01T00:00:00Z", not "2025-03-01T00:00:00Z"`,
    ],
    [
      'a window over 31 days',
      { ...sampleInstruction(), notAfter: '2025-04-02T00:00:00Z' },
      `${prefix} "notAfter": must be at most 31 days after notBefore, not "2025-04-02T00:00:00Z"`,
    ],
    [
      'a short nonce',
      { ...sampleInstruction(), nonce: 'AAAAAAAAAAAAAAAAAAAA' },
      `${prefix} "nonce": must encode 16 to 64 random bytes, not 15`,
    ],
    [
      'a padded nonce',
      { ...sampleInstruction(), nonce: 'q3Wv1m0b9nH0c1T4xq2m8w==' },
      `${prefix} "nonce": must be base64url without padding`,
    ],
    [
      'a standard-base64 nonce',
      { ...sampleInstruction(), nonce: 'q3Wv1m0b9nH0c1T4xq2m8+' },
      `${prefix} "nonce": must be base64url without padding`,
    ],
    [
      'a same-DC transfer',
      { ...sampleInstruction(), destination: { dc: 'cn-hangzhou', bucket: 'x-cn' } },
      `${prefix} "destination.dc": must differ from the source data center "cn-hangzhou"`,
    ],
    [
      'a migrate of a prefix',
      { ...sampleInstruction(), operation: 'migrate', scope: { kind: 'prefix', prefix: 'a/' } },
      `${prefix} "scope.kind": must be "bucket" when the operation is "migrate", not "prefix"`,
    ],
    [
      'a migrate to another bucket name',
      { ...sampleInstruction(), operation: 'migrate', scope: { kind: 'bucket' } },
      `${prefix} "destination.bucket": must be the source bucket "orders-cn" when the operation is "migrate", not "orders-sg"`,
    ],
    [
      'a copy onto the same bucket name',
      { ...sampleInstruction(), destination: { dc: 'us-west-1', bucket: 'orders-cn' } },
      `${prefix} "destination.bucket": must differ from the source bucket when the operation is "copy": bucket names are global, not "orders-cn"`,
    ],
    [
      'a basis kind without a jurisdiction',
      { ...sampleInstruction(), legalBasis: { kind: 'contract', reference: 'x' } },
      `${prefix} "legalBasis.kind": must be a basis kind such as "CN-PIPL-standard-contract", not "contract"`,
    ],
    [
      'a basis without a reference',
      { ...sampleInstruction(), legalBasis: { kind: 'CN-PIPL-certification' } },
      `${prefix} "legalBasis.reference": is missing`,
    ],
    ['an array', [], `${prefix} "instruction": must be a JSON object, not an array`],
  ])('rejects %s with a precise InstructionMalformed', (_name, value, message) => {
    expect(refusal(value)).toBe(message)
  })

  it('bounds every size: keys, key bytes, purpose bytes and reference bytes', () => {
    const keys = Array.from({ length: INSTRUCTION_LIMITS.maxKeys + 1 }, (_, i) => `k${i}`)
    expect(refusal({ ...sampleInstruction(), scope: { kind: 'keys', keys } })).toBe(
      `${prefix} "scope.keys": must list at most 1000 keys, not 1001`,
    )
    expect(
      refusal({ ...sampleInstruction(), scope: { kind: 'prefix', prefix: 'é'.repeat(513) } }),
    ).toBe(`${prefix} "scope.prefix": must be at most 1024 UTF-8 bytes, not 1026`)
    expect(refusal({ ...sampleInstruction(), purpose: 'p'.repeat(1025) })).toBe(
      `${prefix} "purpose": must be at most 1024 UTF-8 bytes, not 1025`,
    )
    expect(
      refusal({
        ...sampleInstruction(),
        legalBasis: { kind: 'CN-PIPL-certification', reference: 'r'.repeat(513) },
      }),
    ).toBe(`${prefix} "legalBasis.reference": must be at most 512 UTF-8 bytes, not 513`)
  })
})

describe('parseSignedInstruction()', () => {
  const signature = Buffer.alloc(64, 7).toString('base64')
  const keyId = 'ed25519:AAAAAAAAAAAAAAAAAAAAAA'

  it('reads the JSON text of a signed instruction', () => {
    const text = JSON.stringify({ instruction: sampleInstruction(), signature, keyId })
    expect(parseSignedInstruction(text)).toEqual({
      instruction: sampleInstruction(),
      signature,
      keyId,
    })
  })

  it.each<[string, unknown, string]>([
    ['text that is not JSON', '{', `${prefix} "$": not JSON: `],
    [
      'an unknown envelope field',
      { instruction: sampleInstruction(), signature, keyId, alg: 'x' },
      `${prefix} "alg": is not a known field`,
    ],
    ['a missing instruction', { signature, keyId }, `${prefix} "instruction": is missing`],
    [
      'a key id of another form',
      { instruction: sampleInstruction(), signature, keyId: 'k1' },
      `${prefix} "keyId": must be "ed25519:" and 22 base64url characters, not "k1"`,
    ],
    [
      'an unpadded signature',
      { instruction: sampleInstruction(), signature: signature.replace(/=+$/, ''), keyId },
      `${prefix} "signature": must be standard base64 with padding`,
    ],
    [
      'a short signature',
      { instruction: sampleInstruction(), signature: Buffer.alloc(32).toString('base64'), keyId },
      `${prefix} "signature": must encode exactly 64 bytes (an Ed25519 signature)`,
    ],
  ])('rejects %s', (_name, value, message) => {
    expect(() => parseSignedInstruction(value)).toThrow(message)
  })

  it('rejects a document over 2 MiB before parsing it', () => {
    expect(() => parseSignedInstruction(' '.repeat(2 * 1024 * 1024 + 1))).toThrow(
      `${prefix} "$": must be at most 2097152 bytes of JSON`,
    )
  })
})

describe('canonicalBytes() and instructionDigest()', () => {
  it('sort keys, drop whitespace and keep non-ASCII as UTF-8 (RFC 8785)', () => {
    const instruction = sampleInstruction({
      scope: { kind: 'prefix', prefix: 'é/' },
      purpose: undefined,
      legalBasis: undefined,
    } as never)
    expect(canonicalBytes(instruction).toString('utf8')).toBe(
      '{"destination":{"bucket":"orders-sg","dc":"ap-southeast-1"},"nonce":"q3Wv1m0b9nH0c1T4xq2m8w","notAfter":"2025-03-08T00:00:00Z","notBefore":"2025-03-01T00:00:00Z","operation":"copy","scope":{"kind":"prefix","prefix":"é/"},"source":{"bucket":"orders-cn","dc":"cn-hangzhou"},"tenantId":"t-0123456789abcdef","type":"sovra.transfer-instruction","version":1}',
    )
    expect(instructionDigest(instruction)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('parseUtcTime()', () => {
  it('reads fractions and leap days, and refuses local times and 24:00', () => {
    expect(parseUtcTime('2024-02-29T23:59:59.123456Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 123))
    expect(parseUtcTime('2025-02-29T00:00:00Z')).toBeNull()
    expect(parseUtcTime('2025-03-01T24:00:00Z')).toBeNull()
    expect(parseUtcTime('2025-03-01T00:00:00')).toBeNull()
    expect(parseUtcTime('2025-03-01t00:00:00z')).toBeNull()
  })
})
