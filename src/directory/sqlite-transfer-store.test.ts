import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Directory, NewTransfer } from './directory.js'
import { openDirectory } from './sqlite-directory.js'

const dirs: string[] = []
const open: Directory[] = []
afterEach(async () => {
  for (const d of open.splice(0)) await d.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function fresh(dataDir: string): Promise<Directory> {
  const directory = await openDirectory({ dataDir })
  open.push(directory)
  return directory
}

const KEY_ID = 'ed25519:AAAAAAAAAAAAAAAAAAAAAA'
const PEM = generateKeyPairSync('ed25519')
  .publicKey.export({ format: 'pem', type: 'spki' })
  .toString()

async function world() {
  const dataDir = mkdtempSync(join(tmpdir(), 'sovra-transfers-'))
  dirs.push(dataDir)
  const directory = await fresh(dataDir)
  await directory.syncDataCenters([
    { id: 'us-west-1', name: 'a', city: 'a', jurisdiction: 'US', status: 'active', port: 0 },
    { id: 'us-east-1', name: 'b', city: 'b', jurisdiction: 'US', status: 'active', port: 0 },
  ])
  const tenant = await directory.createTenant({ name: 'acme' })
  await directory.addSigningKey({ tenantId: tenant.id, keyId: KEY_ID, publicKey: PEM })
  const transfer = (id: string, nonce: string): NewTransfer => ({
    id,
    tenantId: tenant.id,
    keyId: KEY_ID,
    nonce,
    signed: '{}',
    operation: 'copy',
    source: { dc: 'us-west-1', bucket: 'a-bucket' },
    destination: { dc: 'us-east-1', bucket: 'b-bucket' },
  })
  return { dataDir, directory, tenant, transfer }
}

describe('directory: the transfer gate state', () => {
  it('consumes a nonce with the transfer, once, and remembers it across a reopen', async () => {
    const { dataDir, directory, transfer } = await world()
    expect(await directory.nonceUsed('n-1')).toBe(false)
    const recorded = await directory.recordTransfer(transfer('a'.repeat(64), 'n-1'))
    expect(recorded).toMatchObject({ status: 'queued', phase: 'copy', loggedAt: null })
    await expect(directory.recordTransfer(transfer('b'.repeat(64), 'n-1'))).rejects.toMatchObject({
      code: 'InstructionNonceUsed',
    })
    // The refused record left nothing behind.
    expect(await directory.getTransfer('b'.repeat(64))).toBeNull()
    await directory.close()
    const reopened = await fresh(dataDir)
    expect(await reopened.nonceUsed('n-1')).toBe(true)
    await expect(reopened.recordTransfer(transfer('c'.repeat(64), 'n-1'))).rejects.toMatchObject({
      code: 'InstructionNonceUsed',
    })
    expect((await reopened.getTransfer('a'.repeat(64)))?.status).toBe('queued')
  })

  it('keeps the counters the runner sets, with the status fields', async () => {
    const { directory, transfer } = await world()
    const id = 'd'.repeat(64)
    await directory.recordTransfer(transfer(id, 'n-2'))
    const counts = { objectsDone: 3, bytesDone: 30, objectsMissing: 1 }
    await directory.updateTransfer(id, { status: 'running', counts })
    await directory.updateTransfer(id, { phase: 'switched' })
    expect(await directory.getTransfer(id)).toMatchObject({
      ...counts,
      status: 'running',
      phase: 'switched',
    })
  })

  it('switches a bucket home only from the data center it is in, idempotently', async () => {
    const { directory, tenant } = await world()
    await directory.reserveBucket({ name: 'mig-bucket', tenantId: tenant.id, dcId: 'us-west-1' })
    expect((await directory.getBucket('mig-bucket'))?.dcId).toBe('us-west-1') // cached now
    const moved = await directory.moveBucketHome('mig-bucket', 'us-west-1', 'us-east-1')
    expect(moved.dcId).toBe('us-east-1')
    expect((await directory.getBucket('mig-bucket'))?.dcId).toBe('us-east-1') // cache dropped
    expect((await directory.moveBucketHome('mig-bucket', 'us-west-1', 'us-east-1')).dcId).toBe(
      'us-east-1',
    )
    await expect(
      directory.moveBucketHome('mig-bucket', 'cn-hangzhou', 'us-west-1'),
    ).rejects.toMatchObject({
      code: 'InvalidArgument',
    })
    await expect(
      directory.moveBucketHome('mig-bucket', 'us-east-1', 'nowhere-1'),
    ).rejects.toMatchObject({
      code: 'NoSuchDataCenter',
    })
  })

  it('keeps a revoked signing key listed with revokedAt', async () => {
    const { directory, tenant } = await world()
    const revoked = await directory.revokeSigningKey(KEY_ID)
    expect(revoked.revokedAt).toEqual(expect.any(Number))
    expect(await directory.listSigningKeys('acme')).toEqual([revoked])
    await expect(
      directory.addSigningKey({ tenantId: tenant.id, keyId: KEY_ID, publicKey: PEM }),
    ).rejects.toMatchObject({ code: 'SigningKeyAlreadyExists' })
    await expect(
      directory.revokeSigningKey('ed25519:BBBBBBBBBBBBBBBBBBBBBB'),
    ).rejects.toMatchObject({
      code: 'NoSuchSigningKey',
    })
  })
})
