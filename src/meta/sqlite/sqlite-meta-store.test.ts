import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { LifecycleConfiguration } from '../lifecycle.js'
import { runMetaStoreContract } from '../meta-store.contract.js'
import { openSqliteMetaStore } from './sqlite-meta-store.js'

runMetaStoreContract({
  name: 'sqlite',
  open: (location) =>
    openSqliteMetaStore({ driver: 'sqlite', path: join(location, 'meta.sqlite') }),
})

describe('SqliteMetaStore', () => {
  it('creates a WAL database at the latest schema version and reopens it without migrating again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-sqlite-'))
    const path = join(dir, 'nested', 'meta.sqlite')
    try {
      const store = await openSqliteMetaStore({ driver: 'sqlite', path })
      await store.createBucket({ name: 'b', tenantId: 't', createdAt: 1 })
      await store.close()
      const again = await openSqliteMetaStore({ driver: 'sqlite', path })
      expect(await again.getBucket('b')).not.toBeNull()
      await again.close()
      const raw = new Database(path, { readonly: true })
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
      // The latest version is the number of the last migration file.
      const latest = readdirSync(new URL('./migrations/', import.meta.url)).filter((f) =>
        f.endsWith('.sql'),
      ).length
      expect(latest).toBeGreaterThanOrEqual(5)
      expect(raw.pragma('user_version', { simple: true })).toBe(latest)
      raw.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a database whose schema is newer than the build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-sqlite-'))
    const path = join(dir, 'meta.sqlite')
    try {
      const raw = new Database(path)
      raw.pragma('user_version = 99')
      raw.close()
      await expect(openSqliteMetaStore({ driver: 'sqlite', path })).rejects.toThrow(/newer/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
  it('serves bucket records and lifecycles from memory, and every bucket write is seen by the next read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-sqlite-'))
    const path = join(dir, 'meta.sqlite')
    const lifecycle: LifecycleConfiguration = {
      rules: [
        {
          id: 'r',
          status: 'Enabled',
          filter: {
            form: 'prefix',
            prefix: 'logs/',
            tags: [],
            objectSizeGreaterThan: null,
            objectSizeLessThan: null,
          },
          expiration: { days: 3, date: null, expiredObjectDeleteMarker: null },
          noncurrentVersionExpiration: null,
          abortIncompleteMultipartUploadDays: null,
        },
      ],
      transitionDefaultMinimumObjectSize: 'all_storage_classes_128K',
    } as unknown as LifecycleConfiguration
    const store = await openSqliteMetaStore({ driver: 'sqlite', path })
    try {
      // A miss is remembered too, and forgotten when the bucket is created.
      expect(await store.getBucket('b')).toBeNull()
      expect(await store.getBucketLifecycle('b')).toBeNull()
      await store.createBucket({ name: 'b', tenantId: 't', createdAt: 1 })
      const created = await store.getBucket('b')
      expect(created).toEqual({ name: 'b', tenantId: 't', createdAt: 1 })
      // The same record for every reader, and nobody can change it for the others.
      expect(await store.getBucket('b')).toBe(created)
      expect(() => {
        ;(created as { tenantId: string }).tenantId = 'mallory'
      }).toThrow(TypeError)

      await store.setBucketPolicy('b', '{"Version":"2012-10-17","Statement":[]}')
      expect((await store.getBucket('b'))?.policy).toBe('{"Version":"2012-10-17","Statement":[]}')
      await store.setBucketVersioning('b', 'Enabled')
      expect((await store.getBucket('b'))?.versioning).toBe('Enabled')
      await store.setBucketTags('b', [{ key: 'k', value: 'v' }])
      const tagged = await store.getBucket('b')
      expect(tagged?.tags).toEqual([{ key: 'k', value: 'v' }])
      const tags = (tagged?.tags ?? []) as unknown as object[]
      expect(() => tags.push({ key: 'x', value: 'y' })).toThrow(TypeError)
      await store.setBucketEncryption('b', {
        algorithm: 'aws:kms',
        kmsKeyId: 'k1',
        bucketKeyEnabled: false,
      })
      expect((await store.getBucket('b'))?.encryption?.kmsKeyId).toBe('k1')

      await store.setBucketLifecycle('b', lifecycle)
      expect(await store.getBucketLifecycle('b')).toEqual(lifecycle)
      await store.setBucketLifecycle('b', null)
      expect(await store.getBucketLifecycle('b')).toBeNull()

      // A write that fails changes nothing, in the table or in what reads return.
      await expect(store.setBucketPolicy('nope', '{}')).rejects.toMatchObject({
        code: 'NoSuchBucket',
      })
      expect(await store.getBucket('nope')).toBeNull()

      await store.deleteBucket('b')
      expect(await store.getBucket('b')).toBeNull()
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
  it('migration 13 moves inline bytes into a rowid object_data table, every row and wrapped key intact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-sqlite-'))
    const path = join(dir, 'meta.sqlite')
    try {
      // A database as the build before migration 13 left it, with two inline objects.
      const raw = new Database(path)
      const migrations = new URL('./migrations/', import.meta.url)
      const files = readdirSync(migrations)
        .filter((f) => f.endsWith('.sql'))
        .sort()
      for (const file of files.slice(0, 12))
        raw.exec(readFileSync(new URL(file, migrations), 'utf8'))
      raw.pragma('user_version = 12')
      raw.exec(`INSERT INTO buckets (name, tenant_id, created_at) VALUES ('b', 't', 1)`)
      const bodies = { a: Buffer.from('first body'), 'd/é': Buffer.alloc(4150, 7) }
      for (const [key, bytes] of Object.entries(bodies)) {
        raw
          .prepare(
            `INSERT INTO objects (bucket, key, version_id, size, etag, last_modified, checksums, headers, user_metadata)
             VALUES ('b', ?, 'null', ?, '"e"', 1, '{}', '{}', '{}')`,
          )
          .run(key, bytes.length)
        raw
          .prepare(
            `INSERT INTO object_data (bucket, key, bytes, wrapped_key) VALUES ('b', ?, ?, ?)`,
          )
          .run(key, bytes, `dc:v1:1:${key}`)
      }
      raw.close()

      const store = await openSqliteMetaStore({ driver: 'sqlite', path })
      for (const [key, bytes] of Object.entries(bodies)) {
        const record = await store.getObject('b', key, { withData: true })
        expect(record?.data).toEqual({ kind: 'inline', bytes, wrappedKey: `dc:v1:1:${key}` })
      }
      await store.close()
      const after = new Database(path, { readonly: true })
      expect(after.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(13)
      const sql = after
        .prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'object_data'`)
        .pluck()
        .get() as string
      expect(sql).not.toMatch(/WITHOUT ROWID/i)
      expect(after.prepare('SELECT count(*) FROM object_data').pluck().get()).toBe(2)
      after.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
