import { describe, expect, it } from 'vitest'
import { createExportRules } from '../export-rules/index.js'
import type { TransferInstruction } from './instruction.js'
import type { ResidencyErrorCode } from './residency-error.js'
import { signInstruction } from './sign-instruction.js'
import { keygen } from './signing-keys.js'
import {
  makeWorld,
  NOW,
  requestOf,
  sampleInstruction,
  TENANT,
  type World,
} from './test-fixtures.js'
import { type VerifyInstructionOptions, verifyInstruction } from './verify-instruction.js'

/** Signs `instruction` in `world` and verifies it with `overrides`; returns the refusal code or 'ok'. */
function outcome(
  world: World,
  instruction: TransferInstruction,
  overrides: Partial<VerifyInstructionOptions> = {},
): { code: ResidencyErrorCode | 'ok'; message: string } {
  const signed = signInstruction(instruction, world.privateKeyPem)
  const result = verifyInstruction(signed, world.options(instruction, overrides))
  return result.ok
    ? { code: 'ok', message: '' }
    : { code: result.error.code, message: result.error.message }
}

describe('verifyInstruction()', () => {
  it('accepts a signed instruction that matches the request, with its digest and export requirement', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    const signed = signInstruction(instruction, world.privateKeyPem)
    const result = verifyInstruction(JSON.parse(JSON.stringify(signed)), world.options(instruction))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.keyId).toBe(world.keyId)
    expect(result.digest).toMatch(/^[0-9a-f]{64}$/)
    expect(result.exportRequirement).toMatchObject({ kind: 'basis', from: 'CN', to: 'SG' })
    expect(result.instruction).toEqual(instruction)
  })

  it('accepts a transfer between two data centers of one jurisdiction without a legal basis', () => {
    const world = makeWorld()
    const { legalBasis: _, ...rest } = sampleInstruction()
    const instruction: TransferInstruction = {
      ...rest,
      source: { dc: 'us-west-1', bucket: 'logs-us' },
      destination: { dc: 'us-east-1', bucket: 'logs-us-east' },
      scope: { kind: 'prefix', prefix: '2025/' },
      operation: 'move',
    }
    expect(outcome(world, instruction).code).toBe('ok')
  })

  it('refuses a document that does not parse with InstructionMalformed', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    const signed = signInstruction(instruction, world.privateKeyPem)
    const result = verifyInstruction({ ...signed, extra: 1 }, world.options(instruction))
    expect(result.ok || result.error.code).toBe('InstructionMalformed')
    expect(result.ok || result.error.message).toBe(
      'Invalid transfer instruction field "extra": is not a known field',
    )
  })

  it('refuses an unregistered key with InstructionKeyUnknown', () => {
    const world = makeWorld()
    world.keys.clear()
    const r = outcome(world, sampleInstruction())
    expect(r.code).toBe('InstructionKeyUnknown')
    expect(r.message).toBe(
      `Cannot verify transfer instruction of tenant "${TENANT}": key "${world.keyId}" is not registered`,
    )
  })

  it("refuses another tenant's key with InstructionKeyUnknown", () => {
    const world = makeWorld()
    const key = world.keys.get(world.keyId)
    if (key === undefined) throw new Error('fixture key missing')
    world.keys.set(world.keyId, { ...key, tenantId: 't-ffffffffffffffff' })
    const r = outcome(world, sampleInstruction())
    expect(r.code).toBe('InstructionKeyUnknown')
    expect(r.message).toContain('is not registered to this tenant')
  })

  it('refuses a key id whose registered public key is a different key with InstructionKeyUnknown', () => {
    const world = makeWorld()
    world.keys.set(world.keyId, {
      publicKey: keygen().publicKeyPem,
      tenantId: TENANT,
      revoked: false,
    })
    expect(outcome(world, sampleInstruction()).code).toBe('InstructionKeyUnknown')
  })

  it('refuses a revoked key with InstructionKeyRevoked', () => {
    const world = makeWorld()
    const key = world.keys.get(world.keyId)
    if (key === undefined) throw new Error('fixture key missing')
    world.keys.set(world.keyId, { ...key, revoked: true })
    expect(outcome(world, sampleInstruction()).code).toBe('InstructionKeyRevoked')
  })

  it('refuses an instruction changed after signing with InstructionSignatureInvalid', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    const signed = signInstruction(instruction, world.privateKeyPem)
    const widened = { ...signed, instruction: { ...signed.instruction, scope: { kind: 'bucket' } } }
    const result = verifyInstruction(widened, world.options(instruction))
    expect(result.ok || result.error.code).toBe('InstructionSignatureInvalid')
  })

  it('refuses a signature by another key under the registered key id with InstructionSignatureInvalid', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    const forged = signInstruction(instruction, keygen().privateKeyPem)
    const result = verifyInstruction({ ...forged, keyId: world.keyId }, world.options(instruction))
    expect(result.ok || result.error.code).toBe('InstructionSignatureInvalid')
  })

  it('refuses before notBefore minus the clock skew with InstructionNotYetValid, and accepts inside the skew', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    expect(outcome(world, instruction, { now: new Date('2025-02-28T23:56:00Z') }).code).toBe('ok')
    const r = outcome(world, instruction, { now: new Date('2025-02-28T23:54:59Z') })
    expect(r.code).toBe('InstructionNotYetValid')
    expect(r.message).toBe(
      'Cannot accept transfer instruction before "2025-03-01T00:00:00Z": it is now "2025-02-28T23:54:59.000Z"',
    )
  })

  it('refuses after notAfter plus the clock skew with InstructionExpired, and accepts inside the skew', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    expect(outcome(world, instruction, { now: new Date('2025-03-08T00:05:00Z') }).code).toBe('ok')
    expect(outcome(world, instruction, { now: new Date('2025-03-08T00:05:00.001Z') }).code).toBe(
      'InstructionExpired',
    )
    expect(
      outcome(world, instruction, { now: new Date('2025-03-08T00:01:00Z'), clockSkewMs: 0 }).code,
    ).toBe('InstructionExpired')
  })

  it('refuses a nonce that was already used with InstructionReplayed', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    world.seen.add(instruction.nonce)
    const r = outcome(world, instruction)
    expect(r.code).toBe('InstructionReplayed')
    expect(r.message).toBe(
      `Cannot accept transfer instruction with nonce "${instruction.nonce}": it was already used`,
    )
  })

  it('refuses a data center missing from the catalog with NoSuchDataCenter', () => {
    const world = makeWorld()
    world.dataCenters.delete('ap-southeast-1')
    expect(outcome(world, sampleInstruction()).code).toBe('NoSuchDataCenter')
  })

  it.each([
    ['destination', 'ap-southeast-1', 'planned'],
    ['destination', 'ap-southeast-1', 'draining'],
    ['destination', 'ap-southeast-1', 'retired'],
    ['source', 'cn-hangzhou', 'planned'],
    ['source', 'cn-hangzhou', 'retired'],
  ] as const)(
    'refuses a %s data center (%s) that is %s with DataCenterNotActive',
    (role, dc, status) => {
      const world = makeWorld()
      world.dataCenters.set(dc, { status, jurisdiction: dc === 'cn-hangzhou' ? 'CN' : 'SG' })
      const r = outcome(world, sampleInstruction())
      expect(r.code).toBe('DataCenterNotActive')
      expect(r.message).toBe(
        `Cannot use data center "${dc}" as the transfer ${role}: it is "${status}"`,
      )
    },
  )

  it('accepts a draining source data center: moving buckets out is how it drains', () => {
    const world = makeWorld()
    world.dataCenters.set('cn-hangzhou', { status: 'draining', jurisdiction: 'CN' })
    expect(outcome(world, sampleInstruction()).code).toBe('ok')
  })

  it('refuses a bucket that is missing, foreign or elsewhere with InstructionBucketMismatch', () => {
    const missing = makeWorld()
    missing.buckets.delete('orders-sg')
    expect(outcome(missing, sampleInstruction()).message).toBe(
      'Cannot transfer bucket "orders-sg": it does not exist',
    )
    const foreign = makeWorld()
    foreign.buckets.set('orders-cn', { dc: 'cn-hangzhou', tenantId: 't-ffffffffffffffff' })
    expect(outcome(foreign, sampleInstruction()).code).toBe('InstructionBucketMismatch')
    const elsewhere = makeWorld()
    elsewhere.buckets.set('orders-cn', { dc: 'us-west-1', tenantId: TENANT })
    const r = outcome(elsewhere, sampleInstruction())
    expect(r.code).toBe('InstructionBucketMismatch')
    expect(r.message).toBe(
      'Cannot transfer bucket "orders-cn": it lives in "us-west-1", not in "cn-hangzhou" as the instruction says',
    )
  })

  it('accepts a migrate of a whole bucket whose destination bucket is the source bucket itself', () => {
    const world = makeWorld()
    const instruction = sampleInstruction({
      operation: 'migrate',
      scope: { kind: 'bucket' },
      destination: { dc: 'ap-southeast-1', bucket: 'orders-cn' },
    })
    expect(outcome(world, instruction).code).toBe('ok')
  })

  describe('refuses a request wider than or different from what was signed with InstructionScopeMismatch', () => {
    const base = sampleInstruction({ scope: { kind: 'prefix', prefix: 'reports/2025/' } })
    const cases: Array<[string, Partial<ReturnType<typeof requestOf>>, string]> = [
      [
        'a wider prefix',
        { scope: { kind: 'prefix', prefix: 'reports/' } },
        '"scope.prefix" is "reports/"',
      ],
      ['the whole bucket', { scope: { kind: 'bucket' } }, '"scope.kind" is "bucket"'],
      ['another operation', { operation: 'move' }, '"operation" is "move"'],
      [
        'another source bucket',
        { source: { dc: 'cn-hangzhou', bucket: 'other' } },
        '"source.bucket"',
      ],
      [
        'another source data center',
        { source: { dc: 'us-west-1', bucket: 'orders-cn' } },
        '"source.dc"',
      ],
      [
        'another destination data center',
        { destination: { dc: 'ap-northeast-1', bucket: 'orders-sg' } },
        '"destination.dc"',
      ],
      [
        'another destination bucket',
        { destination: { dc: 'ap-southeast-1', bucket: 'x-sg' } },
        '"destination.bucket"',
      ],
      ['another tenant', { tenantId: 't-ffffffffffffffff' }, '"tenantId"'],
    ]
    it.each(cases)('%s', (_name, change, fragment) => {
      const world = makeWorld()
      const r = outcome(world, base, { request: { ...requestOf(base), ...change } })
      expect(r.code).toBe('InstructionScopeMismatch')
      expect(r.message).toContain(fragment)
    })

    it('an extra key, and a missing key', () => {
      const world = makeWorld()
      const instruction = sampleInstruction()
      const extra = outcome(world, instruction, {
        request: {
          ...requestOf(instruction),
          scope: { kind: 'keys', keys: ['2025/01/a.csv', '2025/01/b.csv', 'c'] },
        },
      })
      expect(extra.message).toBe(
        `Cannot execute transfer as requested: the request's "scope.keys" names "c", which the instruction does not list`,
      )
      const fewer = outcome(world, instruction, {
        request: { ...requestOf(instruction), scope: { kind: 'keys', keys: ['2025/01/a.csv'] } },
      })
      expect(fewer.code).toBe('InstructionScopeMismatch')
      const reordered = outcome(world, instruction, {
        request: {
          ...requestOf(instruction),
          scope: { kind: 'keys', keys: ['2025/01/b.csv', '2025/01/a.csv'] },
        },
      })
      expect(reordered.code).toBe('ok')
    })
  })

  it('refuses an export out of CN without a legal basis with ExportBasisRequired', () => {
    const world = makeWorld()
    const { legalBasis: _, ...instruction } = sampleInstruction()
    const r = outcome(world, instruction)
    expect(r.code).toBe('ExportBasisRequired')
    expect(r.message).toBe(
      'Cannot export from "CN" to "SG": the instruction states no legal basis and the rule requires one of "CN-PIPL-security-assessment", "CN-PIPL-certification", "CN-PIPL-standard-contract"',
    )
  })

  it("refuses a basis kind the source's rule does not accept with ExportBasisNotAccepted", () => {
    const world = makeWorld()
    const instruction = sampleInstruction({
      legalBasis: { kind: 'SG-PDPA-contract', reference: 'x' },
    })
    expect(outcome(world, instruction).code).toBe('ExportBasisNotAccepted')
  })

  it('refuses a destination the rule restricts with ExportDestinationRestricted', () => {
    const world = makeWorld()
    const instruction = sampleInstruction({
      source: { dc: 'us-west-1', bucket: 'logs-us' },
      destination: { dc: 'ap-southeast-1', bucket: 'orders-sg' },
    })
    const restricting = world.exportRules.ruleFor('US')
    if (restricting === null) throw new Error('US rule missing')
    const rules = createExportRules([
      {
        file: 'us.json',
        content: {
          ...restricting,
          restrictedDestinations: [{ jurisdiction: 'SG', sources: ['US2'] }],
        },
      },
    ])
    expect(outcome(world, instruction, { exportRules: rules }).code).toBe(
      'ExportDestinationRestricted',
    )
  })

  it('refuses an export out of a jurisdiction that has no rule with ExportRuleMissing', () => {
    const world = makeWorld()
    world.dataCenters.set('cn-hangzhou', { status: 'active', jurisdiction: 'DE' })
    const r = outcome(world, sampleInstruction())
    expect(r.code).toBe('ExportRuleMissing')
    expect(r.message).toBe('Cannot export from "DE": no export rule exists for that jurisdiction')
  })

  it('is pure: it consumes no nonce and the same call gives the same answer', () => {
    const world = makeWorld()
    const instruction = sampleInstruction()
    const signed = signInstruction(instruction, world.privateKeyPem)
    const first = verifyInstruction(signed, world.options(instruction))
    const second = verifyInstruction(signed, world.options(instruction))
    expect(first).toEqual(second)
    expect(world.seen.size).toBe(0)
    expect(NOW.toISOString()).toBe('2025-03-02T12:00:00.000Z')
  })
})
