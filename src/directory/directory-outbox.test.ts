import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { commit, decodeEvent } from '../ledger/index.js'
import type { DataCenterInput, Directory } from './directory.js'
import { openDirectory } from './sqlite-directory.js'

const dirs: string[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-directory-ledger-'))
  dirs.push(dir)
  return dir
}

async function openTestDirectory(dataDir: string): Promise<Directory> {
  const directory = await openDirectory({ dataDir })
  return directory
}

const dc: DataCenterInput = {
  id: 'us-west-1',
  name: 'US West',
  city: 'Silicon Valley',
  jurisdiction: 'US',
  status: 'active',
  port: 9002,
}

describe('the directory outbox', () => {
  it('records catalog, tenant and key changes as events, committing customer values', async () => {
    const directory = await openTestDirectory(tempDir())
    cleanups.push(() => directory.close())
    await directory.syncDataCenters([dc])
    await directory.syncDataCenters([dc]) // unchanged: nothing new
    await directory.syncDataCenters([{ ...dc, status: 'draining' }])
    const tenant = await directory.createTenant({ name: 'acme' })
    const key = await directory.createAccessKey('acme')
    await directory.revokeAccessKey(key.accessKeyId)
    await directory.revokeAccessKey(key.accessKeyId) // already revoked: nothing new

    const events = (await directory.readLedgerOutbox(100)).map((e) => decodeEvent(e.entry))
    expect(events.map((e) => e.type)).toEqual([
      'dc.change',
      'dc.change',
      'tenant.change',
      'key.change',
      'key.change',
    ])
    expect(events[0]).toMatchObject({ dc: 'directory', target: 'us-west-1', change: 'added' })
    expect(events[1]).toMatchObject({ change: 'status', status: 'draining', jurisdiction: 'US' })
    const secret = await directory.ledgerSecretOf(tenant.id)
    expect(events[2]).toMatchObject({ change: 'created', tenant: commit(secret, tenant.id) })
    expect(events[3]).toMatchObject({
      keyKind: 'access-key',
      change: 'created',
      key: commit(secret, key.accessKeyId),
    })
    expect(events[4]).toMatchObject({ change: 'revoked', key: commit(secret, key.accessKeyId) })
    // Nothing customer-identifying in clear.
    const raw = Buffer.concat(
      (await directory.readLedgerOutbox(100)).map((e) => Buffer.from(e.entry)),
    ).toString()
    expect(raw).not.toContain(tenant.id)
    expect(raw).not.toContain('acme')
    expect(raw).not.toContain(key.accessKeyId)
  })

  it("records a tenant's signing keys (transfer instructions) being added and revoked", async () => {
    const directory = await openTestDirectory(tempDir())
    cleanups.push(() => directory.close())
    const tenant = await directory.createTenant({ name: 'acme' })
    const publicKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString()
    const keyId = 'ed25519:AAAAAAAAAAAAAAAAAAAAAA'
    await directory.addSigningKey({ tenantId: tenant.id, keyId, publicKey })
    await directory.revokeSigningKey(keyId)
    await directory.revokeSigningKey(keyId) // already revoked: nothing new
    const secret = await directory.ledgerSecretOf(tenant.id)
    const events = (await directory.readLedgerOutbox(100)).map((e) => decodeEvent(e.entry))
    expect(events.slice(1)).toMatchObject([
      { type: 'key.change', keyKind: 'signing-key', change: 'created', key: commit(secret, keyId) },
      { type: 'key.change', keyKind: 'signing-key', change: 'revoked', key: commit(secret, keyId) },
    ])
  })

  it('writes no event for a change that fails', async () => {
    const directory = await openTestDirectory(tempDir())
    cleanups.push(() => directory.close())
    await directory.createTenant({ name: 'acme' })
    await expect(directory.createTenant({ name: 'acme' })).rejects.toThrow()
    await expect(
      directory.createAccessKey('acme', { accessKeyId: 'AKIA', secretAccessKey: 'x' }),
    ).rejects.toThrow()
    expect(await directory.readLedgerOutbox(100)).toHaveLength(1)
  })
})
