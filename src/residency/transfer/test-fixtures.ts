import { type ExportRules, loadExportRules } from '../export-rules/index.js'
import type { TransferInstruction } from './instruction.js'
import { keygen } from './signing-keys.js'
import type {
  BucketFacts,
  DataCenterFacts,
  RegisteredKey,
  TransferRequest,
  VerifyInstructionOptions,
} from './verify-instruction.js'

/** The tenant every fixture instruction belongs to. */
export const TENANT = 't-0123456789abcdef'

/** A copy of two keys from Hangzhou to Singapore under a PIPL standard contract. */
export function sampleInstruction(
  overrides: Partial<TransferInstruction> = {},
): TransferInstruction {
  return {
    type: 'sovra.transfer-instruction',
    version: 1,
    tenantId: TENANT,
    source: { dc: 'cn-hangzhou', bucket: 'orders-cn' },
    destination: { dc: 'ap-southeast-1', bucket: 'orders-sg' },
    scope: { kind: 'keys', keys: ['2025/01/a.csv', '2025/01/b.csv'] },
    operation: 'copy',
    notBefore: '2025-03-01T00:00:00Z',
    notAfter: '2025-03-08T00:00:00Z',
    nonce: 'q3Wv1m0b9nH0c1T4xq2m8w',
    purpose: 'Quarterly report for the Singapore office',
    legalBasis: { kind: 'CN-PIPL-standard-contract', reference: 'SC-2025-0042' },
    ...overrides,
  }
}

/** Inside the sample's window. */
export const NOW = new Date('2025-03-02T12:00:00Z')

/** The request that exactly matches an instruction. */
export function requestOf(instruction: TransferInstruction): TransferRequest {
  const { tenantId, source, destination, scope, operation } = instruction
  return { tenantId, source, destination, scope, operation }
}

/** A world with the default catalog's data centers, the sample's buckets and one registered key. */
export interface World {
  readonly privateKeyPem: string
  readonly keyId: string
  readonly keys: Map<string, RegisteredKey>
  readonly dataCenters: Map<string, DataCenterFacts>
  readonly buckets: Map<string, BucketFacts>
  readonly seen: Set<string>
  readonly exportRules: ExportRules
  /** Verify options for `instruction`, with `overrides` applied. */
  options(
    instruction: TransferInstruction,
    overrides?: Partial<VerifyInstructionOptions>,
  ): VerifyInstructionOptions
}

let rules: ExportRules | undefined

/** A fresh world: mutate its maps to set up a refusal. */
export function makeWorld(): World {
  const pair = keygen()
  rules ??= loadExportRules()
  const world: World = {
    privateKeyPem: pair.privateKeyPem,
    keyId: pair.keyId,
    keys: new Map([
      [pair.keyId, { publicKey: pair.publicKeyPem, tenantId: TENANT, revoked: false }],
    ]),
    dataCenters: new Map<string, DataCenterFacts>([
      ['cn-hangzhou', { status: 'active', jurisdiction: 'CN' }],
      ['us-west-1', { status: 'active', jurisdiction: 'US' }],
      ['us-east-1', { status: 'active', jurisdiction: 'US' }],
      ['ap-southeast-1', { status: 'active', jurisdiction: 'SG' }],
      ['ap-northeast-1', { status: 'active', jurisdiction: 'JP' }],
      ['ap-south-1', { status: 'planned', jurisdiction: 'IN' }],
      ['me-east-1', { status: 'active', jurisdiction: 'AE' }],
    ]),
    buckets: new Map<string, BucketFacts>([
      ['orders-cn', { dc: 'cn-hangzhou', tenantId: TENANT }],
      ['orders-sg', { dc: 'ap-southeast-1', tenantId: TENANT }],
      ['logs-us', { dc: 'us-west-1', tenantId: TENANT }],
      ['logs-us-east', { dc: 'us-east-1', tenantId: TENANT }],
    ]),
    seen: new Set<string>(),
    exportRules: rules,
    options: (instruction, overrides = {}) => ({
      keys: (id) => world.keys.get(id) ?? null,
      now: NOW,
      nonceSeen: (nonce) => world.seen.has(nonce),
      dataCenters: (id) => world.dataCenters.get(id) ?? null,
      buckets: (name) => world.buckets.get(name) ?? null,
      exportRules: world.exportRules,
      request: requestOf(instruction),
      ...overrides,
    }),
  }
  return world
}
