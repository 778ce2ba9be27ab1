import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { commit, decodeEvent } from '../ledger/index.js'
import type { Directory, NewKmsKey } from './directory.js'
import { DirectoryError, type DirectoryErrorCode } from './directory-error.js'
import { directoryPath, openDirectory } from './sqlite-directory.js'

const dirs: string[] = []
const open: Directory[] = []
afterEach(async () => {
  for (const d of open.splice(0)) await d.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function fresh(): Promise<{ directory: Directory; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sovra-kms-keys-'))
  dirs.push(dataDir)
  const directory = await openDirectory({ dataDir })
  open.push(directory)
  return { directory, dataDir }
}

const isDomainErrorCode = (err: unknown, code: DirectoryErrorCode) =>
  err instanceof DirectoryError && err.code === code

const TOKEN = 'hvs.super-secret-token-value-0001'

function key(tenantId: string, overrides: Partial<NewKmsKey> = {}): NewKmsKey {
  return {
    tenantId,
    keyId: 'photos-key',
    provider: 'vault-transit',
    address: 'https://vault.example.com:8200',
    mount: 'transit',
    keyName: 'sovra-photos',
    namespace: null,
    token: TOKEN,
    dataCenters: ['us-west-1'],
    ...overrides,
  }
}

describe('the directory KMS key registry', () => {
  it('registers, lists without the token, hands the token only to kmsKeyWithToken, encrypted at rest', async () => {
    const { directory, dataDir } = await fresh()
    const tenant = await directory.createTenant({ name: 'acme' })
    const added = await directory.addKmsKey(key(tenant.id))
    expect(added).toMatchObject({
      keyId: 'photos-key',
      dataCenters: ['us-west-1'],
      disabledAt: null,
    })
    expect(JSON.stringify(added)).not.toContain(TOKEN)
    expect(JSON.stringify(await directory.listKmsKeys(tenant.id))).not.toContain(TOKEN)
    expect((await directory.kmsKeyWithToken(tenant.id, 'photos-key'))?.token).toBe(TOKEN)
    expect(await directory.kmsKeyWithToken(tenant.id, 'other')).toBeNull()
    // Another tenant does not see it, and may use the same id for its own key.
    const other = await directory.createTenant({ name: 'other' })
    expect(await directory.kmsKeyWithToken(other.id, 'photos-key')).toBeNull()
    await directory.addKmsKey(key(other.id))
    await directory.close()
    open.length = 0
    for (const file of [directoryPath(dataDir), `${directoryPath(dataDir)}-wal`]) {
      try {
        expect(readFileSync(file).toString('latin1')).not.toContain(TOKEN)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  })

  it('refuses a reused id (removed ones too) and removes idempotently, erasing the token', async () => {
    const { directory } = await fresh()
    const tenant = await directory.createTenant({ name: 'acme' })
    await directory.addKmsKey(key(tenant.id))
    await expect(directory.addKmsKey(key(tenant.id))).rejects.toSatisfy((e) =>
      isDomainErrorCode(e, 'KmsKeyAlreadyExists'),
    )
    const removed = await directory.removeKmsKey(tenant.id, 'photos-key')
    expect(removed.disabledAt).not.toBeNull()
    expect((await directory.kmsKeyWithToken(tenant.id, 'photos-key'))?.token).toBeNull()
    expect((await directory.removeKmsKey(tenant.id, 'photos-key')).disabledAt).toBe(
      removed.disabledAt,
    )
    await expect(directory.addKmsKey(key(tenant.id))).rejects.toSatisfy((e) =>
      isDomainErrorCode(e, 'KmsKeyAlreadyExists'),
    )
    await expect(directory.removeKmsKey(tenant.id, 'nope')).rejects.toSatisfy((e) =>
      isDomainErrorCode(e, 'NoSuchKmsKey'),
    )
    await expect(directory.addKmsKey(key(tenant.id, { keyId: 'a/b' }))).rejects.toSatisfy((e) =>
      isDomainErrorCode(e, 'InvalidArgument'),
    )
  })

  it('records created and revoked as key.change (kek, vault-transit) in the outbox, committing the id', async () => {
    const { directory } = await fresh()
    const tenant = await directory.createTenant({ name: 'acme' })
    await directory.addKmsKey(key(tenant.id))
    await directory.removeKmsKey(tenant.id, 'photos-key')
    await directory.removeKmsKey(tenant.id, 'photos-key') // already removed: nothing new
    const secret = await directory.ledgerSecretOf(tenant.id)
    const events = (await directory.readLedgerOutbox(100))
      .map((e) => decodeEvent(e.entry))
      .filter((e) => e.type === 'key.change')
    expect(events).toEqual([
      expect.objectContaining({
        keyKind: 'kek',
        provider: 'vault-transit',
        change: 'created',
        key: commit(secret, 'photos-key'),
        tenant: commit(secret, tenant.id),
      }),
      expect.objectContaining({ keyKind: 'kek', change: 'revoked' }),
    ])
    expect(JSON.stringify(events)).not.toContain('photos-key')
  })
})
