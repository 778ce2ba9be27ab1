import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DataCenterInput, Directory } from './directory.js'
import { DirectoryError } from './directory-error.js'
import { secretsKeyPath } from './secrets-cipher.js'
import { directoryPath, openDirectory } from './sqlite-directory.js'

const dirs: string[] = []
const open: Directory[] = []
afterEach(async () => {
  for (const d of open.splice(0)) await d.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-directory-'))
  dirs.push(dir)
  return dir
}

async function fresh(
  dataDir = tempDataDir(),
  options: { lookupCacheTtlMs?: number; now?: () => number } = {},
): Promise<Directory> {
  const directory = await openDirectory({ dataDir, ...options })
  open.push(directory)
  return directory
}

async function rejection(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(DirectoryError)
    return err as DirectoryError
  }
  throw new Error('Expected a DirectoryError')
}

const catalog: DataCenterInput[] = [
  {
    id: 'us-west-1',
    name: 'US West',
    city: 'Silicon Valley',
    jurisdiction: 'US',
    status: 'active',
    port: 9002,
  },
  {
    id: 'cn-hangzhou',
    name: 'China',
    city: 'Hangzhou',
    jurisdiction: 'CN',
    status: 'active',
    port: 9001,
  },
]

describe('openDirectory()', () => {
  it('creates the database and a 0600 secrets key in a 0700 folder', async () => {
    const dataDir = tempDataDir()
    await fresh(dataDir)
    expect(statSync(directoryPath(dataDir)).isFile()).toBe(true)
    expect(statSync(secretsKeyPath(dataDir)).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, 'keys')).mode & 0o777).toBe(0o700)
    expect(readdirSync(join(dataDir, 'keys'))).toEqual(['directory-secrets.key'])
  })

  it('persists everything across a reopen', async () => {
    const dataDir = tempDataDir()
    const first = await openDirectory({ dataDir })
    await first.syncDataCenters(catalog)
    const tenant = await first.createTenant({ name: 'acme' })
    const key = await first.createAccessKey('acme')
    await first.reserveBucket({ name: 'acme-logs', tenantId: tenant.id, dcId: 'us-west-1' })
    await first.close()

    const second = await fresh(dataDir)
    expect(await second.getTenant('acme')).toEqual(tenant)
    expect(await second.lookupAccessKey(key.accessKeyId)).toEqual({
      tenantId: tenant.id,
      secretAccessKey: key.secretAccessKey,
    })
    expect((await second.getBucket('acme-logs'))?.dcId).toBe('us-west-1')
    expect((await second.listDataCenters()).map((dc) => dc.id)).toEqual([
      'us-west-1',
      'cn-hangzhou',
    ])
  })

  it('refuses to start with a missing key file when secrets are stored', async () => {
    const dataDir = tempDataDir()
    const first = await openDirectory({ dataDir })
    await first.createTenant({ name: 'acme' })
    await first.createAccessKey('acme')
    await first.close()
    rmSync(secretsKeyPath(dataDir))
    const err = await rejection(openDirectory({ dataDir }))
    expect(err.code).toBe('SecretsUnavailable')
  })

  it('lets two handles (server and CLI) use the same file at once', async () => {
    const dataDir = tempDataDir()
    const server = await fresh(dataDir)
    const cli = await fresh(dataDir)
    await cli.createTenant({ name: 'acme' })
    const key = await cli.createAccessKey('acme')
    expect((await server.lookupAccessKey(key.accessKeyId))?.secretAccessKey).toBe(
      key.secretAccessKey,
    )
  })
})

describe('data centers', () => {
  it('syncDataCenters() inserts, then updates', async () => {
    const directory = await fresh()
    await directory.syncDataCenters(catalog)
    const [first] = catalog
    if (first === undefined) throw new Error('Empty catalog')
    await directory.syncDataCenters([{ ...first, status: 'draining', port: 9100 }])
    const dc = await directory.getDataCenter('us-west-1')
    expect(dc).toEqual({
      ...catalog[0],
      status: 'draining',
      port: 9100,
      storagePath: null,
      endpoint: null,
    })
    expect(await directory.getDataCenter('nowhere-1')).toBeNull()
  })

  it('setEndpoint() adds the endpoint in this process only', async () => {
    const dataDir = tempDataDir()
    const directory = await fresh(dataDir)
    await directory.syncDataCenters(catalog)
    await directory.setEndpoint('us-west-1', 'http://127.0.0.1:40001')
    expect((await directory.getDataCenter('us-west-1'))?.endpoint).toBe('http://127.0.0.1:40001')
    const other = await fresh(dataDir)
    expect((await other.getDataCenter('us-west-1'))?.endpoint).toBeNull()
    expect((await rejection(directory.setEndpoint('xx-nope-1', 'http://x'))).code).toBe(
      'NoSuchDataCenter',
    )
  })
})

describe('tenants', () => {
  it('createTenant() returns an id, a 64-hex canonical id and a timestamp', async () => {
    const directory = await fresh(tempDataDir(), { now: () => 1_700_000_000_000 })
    const tenant = await directory.createTenant({ name: 'acme' })
    expect(tenant.id).toMatch(/^t-[0-9a-f]{16}$/)
    expect(tenant.canonicalId).toMatch(/^[0-9a-f]{64}$/)
    expect(tenant).toMatchObject({ name: 'acme', admin: false, createdAt: 1_700_000_000_000 })
    expect(await directory.getTenant(tenant.id)).toEqual(tenant)
    expect(await directory.getTenant('acme')).toEqual(tenant)
    expect(await directory.getTenant('nobody')).toBeNull()
  })

  it('rejects duplicate and invalid names', async () => {
    const directory = await fresh()
    await directory.createTenant({ name: 'acme' })
    expect((await rejection(directory.createTenant({ name: 'acme' }))).code).toBe(
      'TenantAlreadyExists',
    )
    for (const name of [
      'A',
      'Acme',
      '-acme',
      'a',
      'acme corp',
      't-0123456789abcdef',
      'x'.repeat(64),
    ]) {
      expect((await rejection(directory.createTenant({ name }))).code).toBe('InvalidArgument')
    }
  })

  it('listTenants() orders by name', async () => {
    const directory = await fresh()
    await directory.createTenant({ name: 'zeta' })
    await directory.createTenant({ name: 'alpha' })
    expect((await directory.listTenants()).map((t) => t.name)).toEqual(['alpha', 'zeta'])
  })
})

describe('access keys', () => {
  it('generates AWS-like ids and 40-character secrets', async () => {
    const directory = await fresh()
    const tenant = await directory.createTenant({ name: 'acme' })
    const key = await directory.createAccessKey(tenant.id)
    expect(key.accessKeyId).toMatch(/^SVRA[A-Z2-7]{16}$/)
    expect(key.secretAccessKey).toHaveLength(40)
    expect(key.tenantId).toBe(tenant.id)
  })

  it('never stores a secret in plaintext', async () => {
    const dataDir = tempDataDir()
    const directory = await fresh(dataDir)
    await directory.createTenant({ name: 'acme' })
    const generated = await directory.createAccessKey('acme')
    const imported = await directory.createAccessKey('acme', {
      accessKeyId: 'IMPORTEDKEY1',
      secretAccessKey: 'imported-secret-value-0123456789',
    })
    await directory.close()
    const bytes = Buffer.concat(
      readdirSync(dataDir)
        .filter((f) => f.startsWith('directory.sqlite'))
        .map((f) => readFileSync(join(dataDir, f))),
    )
    expect(bytes.includes(Buffer.from(generated.accessKeyId))).toBe(true)
    expect(bytes.includes(Buffer.from(generated.secretAccessKey))).toBe(false)
    expect(bytes.includes(Buffer.from(imported.secretAccessKey))).toBe(false)
    expect(bytes.includes(Buffer.from('v1:'))).toBe(true)
  })

  it('imports a given key, validates it and rejects duplicates', async () => {
    const directory = await fresh()
    const tenant = await directory.createTenant({ name: 'acme' })
    await directory.createTenant({ name: 'other' })
    const key = await directory.createAccessKey('acme', {
      accessKeyId: 'minio',
      secretAccessKey: 'minio123',
    })
    expect(key).toMatchObject({ accessKeyId: 'minio', secretAccessKey: 'minio123' })
    expect(await directory.lookupAccessKey('minio')).toEqual({
      tenantId: tenant.id,
      secretAccessKey: 'minio123',
    })
    const dup = await rejection(
      directory.createAccessKey('other', { accessKeyId: 'minio', secretAccessKey: 'different1' }),
    )
    expect(dup.code).toBe('AccessKeyAlreadyExists')
    for (const bad of [
      { accessKeyId: 'ab', secretAccessKey: 'longenough' },
      { accessKeyId: 'has/slash', secretAccessKey: 'longenough' },
      { accessKeyId: 'okay-id', secretAccessKey: 'short' },
      { accessKeyId: 'okay-id', secretAccessKey: 'has a space' },
      { accessKeyId: 'okay-id' },
    ]) {
      const err = await rejection(directory.createAccessKey('acme', bad))
      expect(err.code).toBe('InvalidAccessKey')
      if (bad.secretAccessKey !== undefined) expect(err.message).not.toContain(bad.secretAccessKey)
    }
  })

  it('creating a key for an unknown tenant fails', async () => {
    const directory = await fresh()
    expect((await rejection(directory.createAccessKey('ghost'))).code).toBe('NoSuchTenant')
  })

  it("listAccessKeys() shows only one tenant's keys and never secrets", async () => {
    const directory = await fresh()
    await directory.createTenant({ name: 'alpha' })
    await directory.createTenant({ name: 'beta' })
    const a = await directory.createAccessKey('alpha')
    const b = await directory.createAccessKey('beta')
    const alphaKeys = await directory.listAccessKeys('alpha')
    expect(alphaKeys.map((k) => k.accessKeyId)).toEqual([a.accessKeyId])
    expect((await directory.listAccessKeys('beta')).map((k) => k.accessKeyId)).toEqual([
      b.accessKeyId,
    ])
    expect(await directory.listAccessKeys()).toHaveLength(2)
    expect(JSON.stringify(await directory.listAccessKeys())).not.toContain(a.secretAccessKey)
    expect(Object.keys(alphaKeys[0] ?? {})).not.toContain('secretAccessKey')
    expect((await rejection(directory.listAccessKeys('ghost'))).code).toBe('NoSuchTenant')
  })

  it('revokeAccessKey() keeps the key for audit and stops lookups', async () => {
    const directory = await fresh()
    await directory.createTenant({ name: 'acme' })
    const key = await directory.createAccessKey('acme')
    expect(await directory.lookupAccessKey(key.accessKeyId)).not.toBeNull()
    const revoked = await directory.revokeAccessKey(key.accessKeyId)
    expect(revoked.status).toBe('revoked')
    expect(revoked.revokedAt).toBeTypeOf('number')
    expect(await directory.lookupAccessKey(key.accessKeyId)).toBeNull()
    expect((await directory.listAccessKeys('acme'))[0]?.status).toBe('revoked')
    expect((await rejection(directory.revokeAccessKey('NOPE'))).code).toBe('NoSuchAccessKey')
    const reuse = await rejection(
      directory.createAccessKey('acme', {
        accessKeyId: key.accessKeyId,
        secretAccessKey: 'whatever1',
      }),
    )
    expect(reuse.code).toBe('AccessKeyAlreadyExists')
  })

  it('a revocation from another process takes effect within the cache TTL', async () => {
    const dataDir = tempDataDir()
    let now = 1_000_000
    const server = await fresh(dataDir, { now: () => now })
    const cli = await fresh(dataDir)
    await cli.createTenant({ name: 'acme' })
    const key = await cli.createAccessKey('acme')
    expect(await server.lookupAccessKey(key.accessKeyId)).not.toBeNull()
    await cli.revokeAccessKey(key.accessKeyId)
    now += 999
    expect(await server.lookupAccessKey(key.accessKeyId)).not.toBeNull()
    now += 2
    expect(await server.lookupAccessKey(key.accessKeyId)).toBeNull()
  })

  it('lookupAccessKey() returns null for an unknown key', async () => {
    const directory = await fresh()
    expect(await directory.lookupAccessKey('UNKNOWN')).toBeNull()
  })
})

describe('buckets', () => {
  async function setup() {
    const directory = await fresh()
    await directory.syncDataCenters(catalog)
    const alpha = await directory.createTenant({ name: 'alpha' })
    const beta = await directory.createTenant({ name: 'beta' })
    return { directory, alpha, beta }
  }

  it('reserveBucket() records the DC and getBucket() finds it', async () => {
    const { directory, alpha } = await setup()
    const placed = await directory.reserveBucket({
      name: 'photos',
      tenantId: alpha.id,
      dcId: 'cn-hangzhou',
    })
    expect(placed).toMatchObject({ name: 'photos', tenantId: alpha.id, dcId: 'cn-hangzhou' })
    expect(await directory.getBucket('photos')).toEqual(placed)
    expect(await directory.getBucket('nothing')).toBeNull()
  })

  it('a second reservation conflicts with the owner or with another tenant', async () => {
    const { directory, alpha, beta } = await setup()
    await directory.reserveBucket({ name: 'photos', tenantId: alpha.id, dcId: 'us-west-1' })
    const own = await rejection(
      directory.reserveBucket({ name: 'photos', tenantId: alpha.id, dcId: 'cn-hangzhou' }),
    )
    expect(own.code).toBe('BucketAlreadyOwnedByYou')
    expect(own.details.dcId).toBe('us-west-1')
    const other = await rejection(
      directory.reserveBucket({ name: 'photos', tenantId: beta.id, dcId: 'us-west-1' }),
    )
    expect(other.code).toBe('BucketAlreadyExists')
  })

  it('rejects unknown tenants, unknown DCs and invalid names', async () => {
    const { directory, alpha } = await setup()
    const dc = await rejection(
      directory.reserveBucket({ name: 'b1x', tenantId: alpha.id, dcId: 'mars-1' }),
    )
    expect(dc.code).toBe('NoSuchDataCenter')
    const tenant = await rejection(
      directory.reserveBucket({ name: 'b1x', tenantId: 't-0000000000000000', dcId: 'us-west-1' }),
    )
    expect(tenant.code).toBe('NoSuchTenant')
    for (const name of ['ab', 'Upper', 'a..b', '-abc', 'x'.repeat(64)]) {
      const err = await rejection(
        directory.reserveBucket({ name, tenantId: alpha.id, dcId: 'us-west-1' }),
      )
      expect(err.code).toBe('InvalidArgument')
    }
  })

  it('releaseBucket() frees the name for anyone', async () => {
    const { directory, alpha, beta } = await setup()
    await directory.reserveBucket({ name: 'photos', tenantId: alpha.id, dcId: 'us-west-1' })
    await directory.releaseBucket('photos')
    expect(await directory.getBucket('photos')).toBeNull()
    await directory.reserveBucket({ name: 'photos', tenantId: beta.id, dcId: 'cn-hangzhou' })
    expect((await rejection(directory.releaseBucket('nothing'))).code).toBe('NoSuchBucket')
  })

  it("listBuckets() lists one tenant's buckets by name", async () => {
    const { directory, alpha, beta } = await setup()
    await directory.reserveBucket({ name: 'zulu', tenantId: alpha.id, dcId: 'us-west-1' })
    await directory.reserveBucket({ name: 'alpha-b', tenantId: alpha.id, dcId: 'cn-hangzhou' })
    await directory.reserveBucket({ name: 'beta-b', tenantId: beta.id, dcId: 'us-west-1' })
    expect((await directory.listBuckets(alpha.id)).map((b) => b.name)).toEqual(['alpha-b', 'zulu'])
    expect((await directory.listBuckets(beta.id)).map((b) => b.name)).toEqual(['beta-b'])
  })
})

describe('ensureRootTenant()', () => {
  it('creates the admin tenant and a key on first start, and hands out the secret once', async () => {
    const dataDir = tempDataDir()
    const directory = await fresh(dataDir)
    const first = await directory.ensureRootTenant()
    expect(first.created).toBe(true)
    expect(first.tenant).toMatchObject({ name: 'admin', admin: true })
    expect(first.credentials?.accessKeyId).toMatch(/^SVRA/)
    const secret = first.credentials?.secretAccessKey ?? ''
    expect(await directory.lookupAccessKey(first.credentials?.accessKeyId ?? '')).toEqual({
      tenantId: first.tenant.id,
      secretAccessKey: secret,
    })
    const again = await (await fresh(dataDir)).ensureRootTenant()
    expect(again).toEqual({ tenant: first.tenant, credentials: null, created: false })
  })

  it('uses configured credentials on first start', async () => {
    const directory = await fresh()
    const result = await directory.ensureRootTenant({
      accessKeyId: 'ROOTKEY',
      secretAccessKey: 'rootsecret123',
    })
    expect(result.credentials).toEqual({ accessKeyId: 'ROOTKEY', secretAccessKey: 'rootsecret123' })
  })

  it('imports a newly configured key on a later start', async () => {
    const directory = await fresh()
    const first = await directory.ensureRootTenant()
    const later = await directory.ensureRootTenant({
      accessKeyId: 'ROOTKEY2',
      secretAccessKey: 'rootsecret456',
    })
    expect(later.created).toBe(false)
    expect(later.credentials).toBeNull()
    expect(await directory.lookupAccessKey('ROOTKEY2')).toEqual({
      tenantId: first.tenant.id,
      secretAccessKey: 'rootsecret456',
    })
    // Same key again: nothing to do.
    await directory.ensureRootTenant({ accessKeyId: 'ROOTKEY2', secretAccessKey: 'rootsecret456' })
    expect(await directory.listAccessKeys('admin')).toHaveLength(2)
  })

  it('refuses a configured key that exists with another secret, is revoked or is not admin', async () => {
    const directory = await fresh()
    await directory.ensureRootTenant({ accessKeyId: 'ROOTKEY', secretAccessKey: 'rootsecret123' })
    const changed = await rejection(
      directory.ensureRootTenant({ accessKeyId: 'ROOTKEY', secretAccessKey: 'othersecret1' }),
    )
    expect(changed.code).toBe('InvalidAccessKey')
    expect(changed.message).not.toContain('othersecret1')
    await directory.createTenant({ name: 'acme' })
    await directory.createAccessKey('acme', {
      accessKeyId: 'ACMEKEY',
      secretAccessKey: 'acmesecret1',
    })
    const foreign = await rejection(
      directory.ensureRootTenant({ accessKeyId: 'ACMEKEY', secretAccessKey: 'acmesecret1' }),
    )
    expect(foreign.code).toBe('InvalidAccessKey')
    await directory.revokeAccessKey('ROOTKEY')
    const revoked = await rejection(
      directory.ensureRootTenant({ accessKeyId: 'ROOTKEY', secretAccessKey: 'rootsecret123' }),
    )
    expect(revoked.message).toContain('revoked')
  })
})
