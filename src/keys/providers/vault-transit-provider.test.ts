import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isKeyError, type KeyErrorCode } from '../key-error.js'
import { runKeyProviderContract } from '../key-provider.contract.js'
import { startTestKeyd, type TestKeyd } from '../keyd/test-fixtures.js'
import { type VaultTransitConfig, VaultTransitProvider } from './vault-transit-provider.js'

for (const cacheTtlMs of [0, 60_000]) {
  let keyd: TestKeyd | undefined
  runKeyProviderContract({
    name: `vault-transit against keyd (cache ${cacheTtlMs === 0 ? 'off' : 'on'})`,
    open: async (dc) => {
      keyd ??= await startTestKeyd()
      return new VaultTransitProvider({
        address: keyd.url,
        keyName: 'sovra',
        token: keyd.tokens[dc] as string,
        cacheTtlMs,
      })
    },
    cleanup: async () => keyd?.close(),
  })
}

async function codeOf(promise: Promise<unknown>): Promise<KeyErrorCode | string> {
  const err = await promise.then(
    () => 'resolved',
    (e: unknown) => e,
  )
  return isKeyError(err) ? err.code : String(err)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('VaultTransitProvider against keyd', () => {
  let keyd: TestKeyd
  const ctx = { dc: 'us-west-1', bucket: 'photos' }
  const provider = (overrides: Partial<VaultTransitConfig> = {}) =>
    new VaultTransitProvider({
      address: keyd.url,
      keyName: 'sovra',
      token: keyd.tokens['us-west-1'] as string,
      ...overrides,
    })

  beforeAll(async () => {
    keyd = await startTestKeyd()
  })
  afterAll(async () => {
    await keyd.close()
  })

  it('a deleted key stops unwraps within the cache TTL, and at once with no cache entry', async () => {
    await keyd.admin('POST', 'keys/doomed', { derived: true })
    // A short TTL on a controlled clock, so slow fsyncs on a busy machine cannot flake it.
    let clock = 0
    const p = new VaultTransitProvider(
      {
        address: keyd.url,
        keyName: 'doomed',
        token: keyd.tokens['us-west-1'] as string,
        cacheTtlMs: 200,
      },
      { now: () => clock },
    )
    const dek = randomBytes(32)
    const wrapped = await p.wrap(dek, ctx)
    expect((await p.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    expect((await keyd.admin('DELETE', 'keys/doomed')).status).toBe(400) // deletion not allowed yet
    await keyd.admin('POST', 'keys/doomed/config', { deletion_allowed: true })
    expect((await keyd.admin('DELETE', 'keys/doomed')).status).toBe(204)
    // Still cached: the read keeps working until the TTL passes, and no longer.
    clock += 199
    expect((await p.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    const cold = provider({ keyName: 'doomed' })
    expect(await codeOf(cold.unwrap(wrapped, ctx))).toBe('KeyNotFound')
    clock += 1
    expect(await codeOf(p.unwrap(wrapped, ctx))).toBe('KeyNotFound')
  })

  it('a revocation takes effect within a short real-time TTL', async () => {
    await keyd.admin('POST', 'keys/doomed2', { derived: true })
    const p = provider({ keyName: 'doomed2', cacheTtlMs: 100 })
    const wrapped = await p.wrap(randomBytes(32), ctx)
    await p.unwrap(wrapped, ctx)
    await keyd.admin('POST', 'keys/doomed2/config', { deletion_allowed: true })
    await keyd.admin('DELETE', 'keys/doomed2')
    await sleep(120)
    expect(await codeOf(p.unwrap(wrapped, ctx))).toBe('KeyNotFound')
  })

  it('rotate + min_decryption_version revokes old wrapped keys (KeyDisabled); new ones work', async () => {
    await keyd.admin('POST', 'keys/rotating', { derived: true })
    const p = provider({ keyName: 'rotating', cacheTtlMs: 0 })
    const old = await p.wrap(randomBytes(32), ctx)
    expect(old).toContain(':vault:v1:')
    expect((await keyd.admin('POST', 'keys/rotating/rotate')).status).toBe(204)
    const dek = randomBytes(32)
    const fresh = await p.wrap(dek, ctx)
    expect(fresh).toContain(':vault:v2:')
    await keyd.admin('POST', 'keys/rotating/config', { min_decryption_version: 2 })
    expect(await codeOf(p.unwrap(old, ctx))).toBe('KeyDisabled')
    expect((await p.unwrap(fresh, ctx)).equals(dek)).toBe(true)
    const read = await keyd.admin('GET', 'keys/rotating')
    expect(read.body).toMatchObject({
      data: { min_decryption_version: 2, latest_version: 2, derived: true },
    })
  })

  it('rewrap() moves a data key to the latest version inside the key service, bound to its context', async () => {
    await keyd.admin('POST', 'keys/rewrapping', { derived: true })
    const p = provider({ keyName: 'rewrapping', cacheTtlMs: 0 })
    const dek = randomBytes(32)
    const old = await p.wrap(dek, ctx)
    expect(p.keyVersionOf(old)).toBe(1)
    expect((await keyd.admin('POST', 'keys/rewrapping/rotate')).status).toBe(204)
    const rewrapped = await p.rewrap(old, ctx)
    expect(rewrapped).toMatch(/^vault-transit:v1:rewrapping:vault:v2:/)
    expect(p.keyVersionOf(rewrapped)).toBe(2)
    expect((await p.unwrap(rewrapped, ctx)).equals(dek)).toBe(true)
    // The context binding holds: another bucket's context cannot rewrap (or open) it.
    expect(await codeOf(p.rewrap(old, { ...ctx, bucket: 'other' }))).toBe('InvalidWrappedKey')
    // Revoking version 1 leaves the rewrapped key readable and refuses the old one.
    await keyd.admin('POST', 'keys/rewrapping/config', { min_decryption_version: 2 })
    expect(await codeOf(p.unwrap(old, ctx))).toBe('KeyDisabled')
    expect(await codeOf(p.rewrap(old, ctx))).toBe('KeyDisabled')
    expect((await p.unwrap(rewrapped, ctx)).equals(dek)).toBe(true)
    // keyd audited the rewrap, and its answer never carried the data key.
    const audit = (await readFile(keyd.auditLogPath, 'utf8')).trim().split('\n')
    const rewraps = audit.map((l) => JSON.parse(l)).filter((r) => r.op === 'rewrap')
    expect(rewraps.map((r) => [r.outcome, r.keyVersion, r.bucket])).toContainEqual([
      'ok',
      2,
      'photos',
    ])
    for (const encoding of ['base64', 'hex'] as const) {
      expect(audit.join('\n').includes(dek.toString(encoding))).toBe(false)
    }
  })

  it("rotate() calls the key's rotate endpoint: refused for a data-center token at keyd", async () => {
    await keyd.admin('POST', 'keys/dc-rotates', { derived: true })
    const p = provider({ keyName: 'dc-rotates' })
    expect(await codeOf(p.rotate(ctx))).toBe('KeyAccessDenied')
    const read = await keyd.admin('GET', 'keys/dc-rotates')
    expect(read.body).toMatchObject({ data: { latest_version: 1 } })
  })

  it('rotate() answers the new version when the service tells it (Vault 200), else undefined (204)', async () => {
    const calls: string[] = []
    const answer = (status: number, body: string) => ({ status, text: async () => body })
    let next = answer(200, JSON.stringify({ data: { latest_version: 7, name: 'k' } }))
    const p = new VaultTransitProvider(
      { address: 'http://vault.test:8200/', keyName: 'k', token: 't' },
      {
        fetch: async (url, init) => {
          calls.push(`${init.method} ${url}`)
          return next
        },
      },
    )
    expect(await p.rotate(ctx)).toBe(7)
    next = answer(204, '')
    expect(await p.rotate(ctx)).toBeUndefined()
    expect(calls).toEqual([
      'POST http://vault.test:8200/v1/transit/keys/k/rotate',
      'POST http://vault.test:8200/v1/transit/keys/k/rotate',
    ])
    next = answer(403, JSON.stringify({ errors: ['permission denied'] }))
    expect(await codeOf(p.rotate(ctx))).toBe('KeyAccessDenied')
  })

  it('maps a bad token to KeyAccessDenied and a data center off the allow-list too', async () => {
    expect(await codeOf(provider({ token: 'nope' }).wrap(randomBytes(32), ctx))).toBe(
      'KeyAccessDenied',
    )
    const offList = provider({ token: keyd.tokens['ap-south-1'] as string })
    expect(await codeOf(offList.wrap(randomBytes(32), { dc: 'ap-south-1', bucket: 'b' }))).toBe(
      'KeyAccessDenied',
    )
    // A DC token cannot act for another DC, even one on the list.
    expect(await codeOf(provider().wrap(randomBytes(32), { dc: 'dc-a', bucket: 'b' }))).toBe(
      'KeyAccessDenied',
    )
  })

  it('maps a missing key to KeyNotFound', async () => {
    expect(await codeOf(provider({ keyName: 'never-made' }).wrap(randomBytes(32), ctx))).toBe(
      'KeyNotFound',
    )
  })

  it('maps an unreachable service and a timeout to KeyServiceUnavailable, a caller abort to Aborted', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    expect(
      await codeOf(provider({ address: `http://127.0.0.1:${port}` }).wrap(randomBytes(32), ctx)),
    ).toBe('KeyServiceUnavailable')

    const silent: Server = createServer(() => {
      // never answers
    })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const address = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
    const started = Date.now()
    expect(await codeOf(provider({ address, timeoutMs: 150 }).wrap(randomBytes(32), ctx))).toBe(
      'KeyServiceUnavailable',
    )
    expect(Date.now() - started).toBeLessThan(2_000)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    expect(
      await codeOf(
        provider({ address, timeoutMs: 5_000 }).unwrap(
          `vault-transit:v1:sovra:vault:v1:AAAA`,
          ctx,
          controller.signal,
        ),
      ),
    ).toBe('Aborted')
    silent.closeAllConnections()
    await new Promise<void>((r) => silent.close(() => r()))
  })

  it('shares one round trip among concurrent cold unwraps and answers warm reads from memory', async () => {
    let calls = 0
    const counting = new VaultTransitProvider(
      { address: keyd.url, keyName: 'sovra', token: keyd.tokens['us-west-1'] as string },
      {
        fetch: async (url, init) => {
          if (url.includes('/decrypt/')) calls++
          return fetch(url, init)
        },
      },
    )
    const dek = randomBytes(32)
    const wrapped = await provider({ cacheTtlMs: 0 }).wrap(dek, ctx)
    const results = await Promise.all(
      Array.from({ length: 5 }, () => counting.unwrap(wrapped, ctx)),
    )
    for (const r of results) expect(r.equals(dek)).toBe(true)
    expect(calls).toBe(1)
    await counting.unwrap(wrapped, ctx)
    expect(calls).toBe(1)
    // A caller that zeroes its copy does not damage the cache.
    results[0]?.fill(0)
    expect((await counting.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
  })

  it('sends the token as X-Vault-Token and the binding as base64 context', async () => {
    const seen: Array<{ headers: Record<string, string>; body: Record<string, string> }> = []
    const spying = new VaultTransitProvider(
      {
        address: keyd.url,
        keyName: 'sovra',
        token: keyd.tokens['us-west-1'] as string,
        namespace: 'ns1/',
      },
      {
        fetch: async (url, init) => {
          seen.push({
            headers: init.headers,
            body: JSON.parse(init.body) as Record<string, string>,
          })
          return fetch(url, init)
        },
      },
    )
    await spying.wrap(randomBytes(32), ctx)
    expect(seen[0]?.headers['x-vault-token']).toBe(keyd.tokens['us-west-1'])
    expect(seen[0]?.headers['x-vault-namespace']).toBe('ns1/')
    expect(Buffer.from(seen[0]?.body.context ?? '', 'base64').toString()).toBe(
      '{"bucket":"photos","dc":"us-west-1","v":1}',
    )
  })

  it("sends the caller's receipt with a cold unwrap only, preferring it to the constructor's", async () => {
    const receipts: string[] = []
    const spying = new VaultTransitProvider(
      { address: keyd.url, keyName: 'sovra', token: keyd.tokens['us-west-1'] as string },
      {
        receiptFor: async () => 'from-the-constructor',
        fetch: async (url, init) => {
          const body = JSON.parse(init.body) as Record<string, string>
          if (url.includes('/decrypt/')) receipts.push(body.sovra_receipt ?? '(none)')
          return fetch(url, init)
        },
      },
    )
    const dek = randomBytes(32)
    const wrapped = await provider().wrap(dek, ctx)
    let asked = 0
    const mine = async () => {
      asked++
      return 'from-the-caller'
    }
    expect((await spying.unwrap(wrapped, ctx, undefined, mine)).equals(dek)).toBe(true)
    // Warm: served from the cache, the caller's receipt is not even asked for.
    expect((await spying.unwrap(wrapped, ctx, undefined, mine)).equals(dek)).toBe(true)
    expect(asked).toBe(1)
    expect(receipts).toEqual(['from-the-caller'])
    spying.clearCache()
    await spying.unwrap(wrapped, ctx)
    expect(receipts).toEqual(['from-the-caller', 'from-the-constructor'])
  })
})
