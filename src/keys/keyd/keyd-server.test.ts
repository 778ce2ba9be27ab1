import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isKeyError } from '../key-error.js'
import { encodeKeyContext } from '../key-provider.js'
import { VaultTransitProvider } from '../providers/vault-transit-provider.js'
import { startTestKeyd, type TestKeyd } from './test-fixtures.js'
import type { UnwrapRequest } from './unwrap-authorizer.js'

const ctx = { dc: 'us-west-1', bucket: 'photos' }
let running: TestKeyd[] = []
afterEach(async () => {
  for (const k of running) await k.close()
  running = []
})
async function start(...args: Parameters<typeof startTestKeyd>) {
  const k = await startTestKeyd(...args)
  running.push(k)
  return k
}

async function call(
  k: TestKeyd,
  path: string,
  init: { token?: string; body?: unknown; method?: string; bearer?: boolean },
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (init.token !== undefined) {
    if (init.bearer === true) headers.authorization = `Bearer ${init.token}`
    else headers['x-vault-token'] = init.token
  }
  const res = await fetch(`${k.url}/v1/transit/${path}`, {
    method: init.method ?? 'POST',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    body: (text === '' ? undefined : JSON.parse(text)) as Answer | undefined,
  }
}

/** A loosely typed keyd answer, for reading fields in tests. */
type Answer = { data: Record<string, string>; errors?: string[]; request_id?: string }

const context = encodeKeyContext(ctx).toString('base64')

describe('keyd', () => {
  it('speaks Transit: encrypt, decrypt, datakey, with Vault-shaped answers and errors', async () => {
    const k = await start()
    const token = k.tokens['us-west-1'] as string
    const plaintext = randomBytes(32).toString('base64')
    const enc = await call(k, 'encrypt/sovra', { token, body: { plaintext, context } })
    expect(enc.status).toBe(200)
    expect(enc.body?.data.ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/=]+$/)
    expect(enc.body?.data.key_version).toBe(1)
    expect(typeof enc.body?.request_id).toBe('string')
    const dec = await call(k, 'decrypt/sovra', {
      token,
      bearer: true,
      body: { ciphertext: enc.body?.data.ciphertext, context },
    })
    expect(dec.body?.data.plaintext).toBe(plaintext)
    const dk = await call(k, 'datakey/plaintext/sovra', { token, body: { context } })
    expect(Buffer.from(dk.body?.data.plaintext ?? '', 'base64')).toHaveLength(32)
    const wrappedOnly = await call(k, 'datakey/wrapped/sovra', {
      token,
      body: { context, bits: 512 },
    })
    expect(wrappedOnly.body?.data.plaintext).toBeUndefined()
    const back = await call(k, 'decrypt/sovra', {
      token,
      body: { ciphertext: dk.body?.data.ciphertext, context },
    })
    expect(back.body?.data.plaintext).toBe(dk.body?.data.plaintext)
    // Errors are {"errors": [...]}.
    const bad = await call(k, 'decrypt/sovra', {
      token,
      body: { ciphertext: 'vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', context },
    })
    expect(bad.status).toBe(400)
    expect(bad.body?.errors).toEqual(['cipher: message authentication failed'])
    expect((await call(k, 'nothing/here', { token })).status).toBe(404)
    expect((await call(k, 'encrypt/%E0%A4%A', { token, body: {} })).status).toBe(400)
  })

  it('separates roles: DC tokens cannot manage keys, the admin token cannot decrypt', async () => {
    const k = await start()
    expect(
      (await call(k, 'keys/x', { token: k.tokens['us-west-1'] as string, body: {} })).status,
    ).toBe(403)
    expect(
      (
        await call(k, 'encrypt/sovra', {
          token: k.tokens.admin,
          body: { plaintext: 'AA==', context },
        })
      ).status,
    ).toBe(403)
    expect((await call(k, 'encrypt/sovra', { body: { plaintext: 'AA==', context } })).status).toBe(
      403,
    )
    expect(
      (await call(k, 'keys/x', { token: k.tokens.admin, body: { exportable: true } })).status,
    ).toBe(400)
    expect(
      (await call(k, 'keys/x', { token: k.tokens.admin, body: { type: 'rsa-2048' } })).status,
    ).toBe(400)
  })

  it('lists key names for the admin only (LIST or GET ?list=true)', async () => {
    const k = await start()
    await k.admin('POST', 'keys/another', { derived: true })
    const listed = await k.admin('GET', 'keys?list=true')
    expect(listed).toMatchObject({ status: 200, body: { data: { keys: ['another', 'sovra'] } } })
    expect((await k.admin('GET', 'keys')).status).toBe(405)
    const res = await fetch(`${k.url}/v1/transit/keys?list=true`, {
      headers: { 'x-vault-token': k.tokens['us-west-1'] as string },
    })
    expect(res.status).toBe(403)
  })

  it("requires a Sovra key context naming the caller's own, allowed data center", async () => {
    const k = await start()
    const token = k.tokens['us-west-1'] as string
    const noContext = await call(k, 'encrypt/sovra', { token, body: { plaintext: 'AA==' } })
    expect(noContext.status).toBe(400)
    const foreign = encodeKeyContext({ dc: 'dc-a', bucket: 'b' }).toString('base64')
    expect(
      (await call(k, 'encrypt/sovra', { token, body: { plaintext: 'AA==', context: foreign } }))
        .status,
    ).toBe(403)
  })

  it('writes one audit line per request, refused ones included, and never key material or tokens', async () => {
    const k = await start()
    const p = new VaultTransitProvider({
      address: k.url,
      keyName: 'sovra',
      token: k.tokens['us-west-1'] as string,
      cacheTtlMs: 0,
    })
    const dek = randomBytes(32)
    const wrapped = await p.wrap(dek, ctx)
    await p.unwrap(wrapped, ctx)
    await p.unwrap(wrapped, { ...ctx, bucket: 'other' }).catch(() => undefined)
    await new VaultTransitProvider({ address: k.url, keyName: 'sovra', token: 'wrong' })
      .unwrap(wrapped, ctx)
      .catch(() => undefined)
    const text = await readFile(k.auditLogPath, 'utf8')
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => [l.op, l.outcome])).toEqual([
      ['create-key', 'ok'],
      ['encrypt', 'ok'],
      ['decrypt', 'ok'],
      ['decrypt', 'error'],
      ['request', 'denied'],
    ])
    expect(lines[2]).toMatchObject({
      key: 'sovra',
      keyVersion: 1,
      dc: 'us-west-1',
      bucket: 'photos',
      client: 'dc:us-west-1',
      status: 200,
    })
    const ciphertext = wrapped.split(':vault:v1:')[1] as string
    for (const secret of [
      dek.toString('base64'),
      dek.toString('hex'),
      ciphertext,
      ...Object.values(k.tokens),
    ]) {
      expect(text.includes(secret)).toBe(false)
    }
    expect((await stat(k.auditLogPath)).mode & 0o777).toBe(0o600)
  })

  it('asks authorizeUnwrap() before every decrypt and refuses with its reason', async () => {
    const asked: UnwrapRequest[] = []
    const k = await start(
      {},
      {
        authorizer: {
          authorizeUnwrap: async (request) => {
            asked.push(request)
            return request.context.bucket === 'secret'
              ? { allow: false, reason: 'no ledger receipt' }
              : { allow: true }
          },
        },
      },
    )
    const p = new VaultTransitProvider({
      address: k.url,
      keyName: 'sovra',
      token: k.tokens['us-west-1'] as string,
      cacheTtlMs: 0,
    })
    const open = await p.wrap(randomBytes(32), ctx)
    await p.unwrap(open, ctx)
    const closed = await p.wrap(randomBytes(32), { ...ctx, bucket: 'secret' })
    const err = await p.unwrap(closed, { ...ctx, bucket: 'secret' }).catch((e: unknown) => e)
    expect(isKeyError(err, 'KeyAccessDenied')).toBe(true)
    expect(String((err as Error).message)).toContain('no ledger receipt')
    expect(
      asked.map((r) => [r.keyName, r.keyVersion, r.context.bucket, r.clientDc, r.receipt]),
    ).toEqual([
      ['sovra', 1, 'photos', 'us-west-1', undefined],
      ['sovra', 1, 'secret', 'us-west-1', undefined],
    ])
    const audit = await readFile(k.auditLogPath, 'utf8')
    expect(audit).toContain('"outcome":"denied"')
  })

  it('keeps keys across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-keyd-'))
    try {
      const first = await startTestKeyd({ dir })
      const p1 = new VaultTransitProvider({
        address: first.url,
        keyName: 'sovra',
        token: first.tokens['us-west-1'] as string,
        cacheTtlMs: 0,
      })
      const dek = randomBytes(32)
      const wrapped = await p1.wrap(dek, ctx)
      await first.close()
      const second = await startTestKeyd({ dir })
      const p2 = new VaultTransitProvider({
        address: second.url,
        keyName: 'sovra',
        token: second.tokens['us-west-1'] as string,
        cacheTtlMs: 0,
      })
      expect((await p2.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
      await second.close()
      expect((await stat(join(dir, 'keys.json'))).mode & 0o777).toBe(0o600)
      // Both runs appended to one audit log.
      const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n')
      expect(lines.length).toBe(4)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
