import { readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
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
})
