import { describe, expect, it } from 'vitest'
import { isKeyError, type KeyErrorCode, kmsKeyArn, VaultTransitProvider } from '../keys/index.js'
import { CustomerKeyProviders, type CustomerKeySpec } from './customer-keys.js'

const TENANT = 't-0123456789abcdef'
const arn = (keyId: string) => kmsKeyArn({ tenantId: TENANT, keyId })
const spec = (overrides: Partial<CustomerKeySpec> = {}): CustomerKeySpec => ({
  provider: 'vault-transit',
  address: 'http://127.0.0.1:1',
  mount: 'transit',
  keyName: 'k',
  namespace: null,
  token: 'token-0001',
  dataCenters: null,
  ...overrides,
})

async function codeOf(promise: Promise<unknown>): Promise<KeyErrorCode | string> {
  const err = await promise.then(
    () => 'resolved',
    (e: unknown) => e,
  )
  return isKeyError(err) ? err.code : String(err)
}

describe('CustomerKeyProviders', () => {
  it('resolves a registered key to one shared provider, asking the registry at most once a second', async () => {
    let now = 0
    let lookups = 0
    const providers = new CustomerKeyProviders(
      async (tenantId, keyId) => {
        lookups++
        return tenantId === TENANT && keyId === 'k1' ? spec() : null
      },
      { cacheTtlMs: 1000, now: () => now },
    )
    const a = await providers.resolve(arn('k1'), 'us-west-1')
    const b = await providers.resolve(arn('k1'), 'us-east-1')
    expect(a).toBeInstanceOf(VaultTransitProvider)
    expect(b).toBe(a)
    expect(lookups).toBe(1)
    now = 1_500
    expect(await providers.resolve(arn('k1'), 'us-west-1')).toBe(a)
    expect(lookups).toBe(2)
  })

  it('refuses an unknown key, a malformed ARN and a data center the key is not allowed in (KeyNotFound)', async () => {
    const providers = new CustomerKeyProviders(
      async (_t, keyId) => (keyId === 'west' ? spec({ dataCenters: ['us-west-1'] }) : null),
      { cacheTtlMs: 0 },
    )
    expect(await codeOf(providers.resolve(arn('nope'), 'us-west-1'))).toBe('KeyNotFound')
    expect(await codeOf(providers.resolve('arn:aws:kms:x:1:key/y', 'us-west-1'))).toBe(
      'KeyNotFound',
    )
    expect(await codeOf(providers.resolve(arn('west'), 'us-east-1'))).toBe('KeyNotFound')
    expect(await codeOf(providers.resolve(arn('west'), 'us-west-1'))).toBe('resolved')
  })

  it('a removed key is KeyDisabled; a changed or forgotten key gets a new provider', async () => {
    let current: CustomerKeySpec | null = spec()
    let now = 0
    const providers = new CustomerKeyProviders(async () => current, {
      cacheTtlMs: 1000,
      now: () => now,
    })
    const first = await providers.resolve(arn('k'), 'us-west-1')
    current = spec({ token: 'token-0002' })
    now = 2_000
    const second = await providers.resolve(arn('k'), 'us-west-1')
    expect(second).not.toBe(first)
    current = spec({ token: null })
    providers.forget(TENANT, 'k')
    expect(await codeOf(providers.resolve(arn('k'), 'us-west-1'))).toBe('KeyDisabled')
  })
})
