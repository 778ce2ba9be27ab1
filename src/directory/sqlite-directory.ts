import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import {
  commit,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  type LedgerActor,
  type LedgerEvent,
  type OutboxEntry,
} from '../ledger/index.js'
import {
  generateAccessKeyId,
  generateCanonicalId,
  generateSecretAccessKey,
  generateTenantId,
  looksLikeTenantId,
  validateImportedKey,
  validateTenantName,
} from './credentials.js'
import type {
  AccessKeyLookup,
  AccessKeyRecord,
  BucketPlacement,
  DataCenterInput,
  DataCenterRecord,
  DataCenterState,
  DataCenterTransition,
  Directory,
  KmsKeyRecord,
  KmsKeyWithToken,
  NewAccessKey,
  NewKmsKey,
  NewTransfer,
  RootTenant,
  SeedReport,
  SigningKeyRecord,
  TenantRecord,
  TransferRecord,
  TransferStatus,
  TransferUpdate,
} from './directory.js'
import { DirectoryErrors } from './directory-error.js'
import { migrate } from './migrate.js'
import { SecretsCipher, secretsKeyPath } from './secrets-cipher.js'
import { SqliteDataCenters } from './sqlite-data-centers.js'
import { SqliteKmsKeys } from './sqlite-kms-keys.js'
import { SqliteTransferStore } from './sqlite-transfer-store.js'

/** How `openDirectory` finds and tunes the directory. */
export interface OpenDirectoryOptions {
  /** Data folder; the directory lives in `<dataDir>/directory.sqlite`. */
  readonly dataDir: string
  /**
   * How long a successful key lookup is cached. Kept at or under one second so that a revocation
   * made by the CLI in another process takes effect within a second. Default 1000; 0 disables.
   */
  readonly lookupCacheTtlMs?: number
  /** Clock, for tests. */
  readonly now?: () => number
}

/** The `dc` of every event in the directory's own transparency log. */
export const DIRECTORY_LEDGER_ID = 'directory'

/** Name of the tenant created on first start. */
export const ROOT_TENANT_NAME = 'admin'

/** Path of the directory database under a data dir. */
export function directoryPath(dataDir: string): string {
  return join(dataDir, 'directory.sqlite')
}

/** Opens (creating and migrating if needed) the directory of a data dir. */
export async function openDirectory(options: OpenDirectoryOptions): Promise<Directory> {
  mkdirSync(options.dataDir, { recursive: true })
  const db = new Database(directoryPath(options.dataDir))
  try {
    db.pragma('busy_timeout = 5000')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    migrate(db)
    const keyFile = secretsKeyPath(options.dataDir)
    if (!existsSync(keyFile)) {
      // A new key would silently make every stored secret unreadable: refuse instead.
      const { count } = db
        .prepare<[], { count: number }>('SELECT count(*) AS count FROM access_keys')
        .get() ?? { count: 0 }
      if (count > 0) {
        throw DirectoryErrors.secretsUnavailable(
          `key file "${keyFile}" is missing but the directory holds "${count}" encrypted secrets`,
        )
      }
    }
    return new SqliteDirectory(db, await SecretsCipher.open(options.dataDir), options)
  } catch (err) {
    db.close()
    throw err
  }
}

interface DataCenterRow {
  id: string
  name: string
  city: string
  jurisdiction: string
  status: DataCenterState
  port: number
  storage_path: string | null
}

interface TenantRow {
  id: string
  name: string
  canonical_id: string
  admin: number
  created_at: number
}

interface AccessKeyRow {
  access_key_id: string
  tenant_id: string
  status: 'active' | 'revoked'
  created_at: number
  revoked_at: number | null
}

interface BucketRow {
  name: string
  tenant_id: string
  dc_id: string
  created_at: number
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const MAX_CACHED_KEYS = 10_000

type Statement<P extends unknown[], R> = Database.Statement<P, R>

/** The SQLite implementation; better-sqlite3 stays inside this file. */
class SqliteDirectory implements Directory {
  readonly #db: Database.Database
  readonly #cipher: SecretsCipher
  readonly #now: () => number
  readonly #cacheTtlMs: number
  readonly #keyCache = new Map<string, AccessKeyLookup & { expires: number }>()
  /**
   * Tenants and bucket placements are read on every request: cached for at most the lookup TTL
   * (≤ 1 s), and dropped at once when this process reserves or releases a bucket.
   */
  readonly #tenantCache = new Map<string, { value: TenantRecord; expires: number }>()
  readonly #bucketCache = new Map<string, { value: BucketPlacement | null; expires: number }>()
  /** Ledger secrets never change once created, so they are cached for the process's life. */
  readonly #ledgerSecrets = new Map<string, Buffer>()
  readonly #endpoints = new Map<string, string>()
  readonly #dataCenters: SqliteDataCenters
  readonly #transfers: SqliteTransferStore
  readonly #kmsKeys: SqliteKmsKeys
  readonly #sql: {
    upsertDc: Statement<[DataCenterRow & { position: number; updated_at: number }], void>
    listDcs: Statement<[], DataCenterRow>
    getDc: Statement<[string], DataCenterRow>
    insertTenant: Statement<[TenantRow], void>
    listTenants: Statement<[], TenantRow>
    tenantById: Statement<[string], TenantRow>
    tenantByName: Statement<[string], TenantRow>
    insertKey: Statement<[AccessKeyRow & { secret: string }], void>
    getKey: Statement<[string], AccessKeyRow & { secret: string }>
    listKeys: Statement<[], AccessKeyRow>
    listKeysOf: Statement<[string], AccessKeyRow>
    revokeKey: Statement<[number, string], void>
    lookupKey: Statement<[string], { tenant_id: string; secret: string }>
    insertBucket: Statement<[BucketRow], void>
    getBucket: Statement<[string], BucketRow>
    deleteBucket: Statement<[string], void>
    listBuckets: Statement<[string], BucketRow>
    insertOutbox: Statement<[{ entry: Uint8Array; created_at: number }], void>
    readOutbox: Statement<[number], { seq: number; entry: Uint8Array }>
    ackOutbox: Statement<[number], void>
  }

  constructor(db: Database.Database, cipher: SecretsCipher, options: OpenDirectoryOptions) {
    this.#db = db
    this.#cipher = cipher
    this.#now = options.now ?? Date.now
    this.#cacheTtlMs = Math.min(Math.max(options.lookupCacheTtlMs ?? 1000, 0), 1000)
    this.#dataCenters = new SqliteDataCenters(db, this.#now, (dc, change, actor) =>
      this.#record(
        {
          type: 'dc.change',
          target: dc.id,
          change,
          jurisdiction: dc.jurisdiction,
          status: dc.status,
        },
        actor,
      ),
    )
    const keyColumns = 'access_key_id, tenant_id, status, created_at, revoked_at'
    this.#sql = {
      upsertDc: db.prepare(
        `INSERT INTO data_centers (id, name, city, jurisdiction, status, port, storage_path,
           position, updated_at)
         VALUES (@id, @name, @city, @jurisdiction, @status, @port, @storage_path, @position,
           @updated_at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, city = excluded.city,
           jurisdiction = excluded.jurisdiction, status = excluded.status, port = excluded.port,
           storage_path = excluded.storage_path, position = excluded.position,
           updated_at = excluded.updated_at`,
      ),
      listDcs: db.prepare(
        'SELECT id, name, city, jurisdiction, status, port, storage_path FROM data_centers ORDER BY position, id',
      ),
      getDc: db.prepare(
        'SELECT id, name, city, jurisdiction, status, port, storage_path FROM data_centers WHERE id = ?',
      ),
      insertTenant: db.prepare(
        `INSERT INTO tenants (id, name, canonical_id, admin, created_at)
         VALUES (@id, @name, @canonical_id, @admin, @created_at)`,
      ),
      listTenants: db.prepare('SELECT * FROM tenants ORDER BY name'),
      tenantById: db.prepare('SELECT * FROM tenants WHERE id = ?'),
      tenantByName: db.prepare('SELECT * FROM tenants WHERE name = ?'),
      insertKey: db.prepare(
        `INSERT INTO access_keys (access_key_id, tenant_id, secret, status, created_at, revoked_at)
         VALUES (@access_key_id, @tenant_id, @secret, @status, @created_at, @revoked_at)`,
      ),
      getKey: db.prepare(`SELECT ${keyColumns}, secret FROM access_keys WHERE access_key_id = ?`),
      listKeys: db.prepare(
        `SELECT ${keyColumns} FROM access_keys ORDER BY created_at, access_key_id`,
      ),
      listKeysOf: db.prepare(
        `SELECT ${keyColumns} FROM access_keys WHERE tenant_id = ? ORDER BY created_at, access_key_id`,
      ),
      revokeKey: db.prepare(
        `UPDATE access_keys SET status = 'revoked', revoked_at = ?
         WHERE access_key_id = ? AND status = 'active'`,
      ),
      lookupKey: db.prepare(
        `SELECT tenant_id, secret FROM access_keys WHERE access_key_id = ? AND status = 'active'`,
      ),
      insertBucket: db.prepare(
        `INSERT INTO buckets (name, tenant_id, dc_id, created_at)
         VALUES (@name, @tenant_id, @dc_id, @created_at)`,
      ),
      getBucket: db.prepare('SELECT * FROM buckets WHERE name = ?'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
      listBuckets: db.prepare('SELECT * FROM buckets WHERE tenant_id = ? ORDER BY name'),
      insertOutbox: db.prepare(
        'INSERT INTO ledger_outbox (entry, created_at) VALUES (@entry, @created_at)',
      ),
      readOutbox: db.prepare('SELECT seq, entry FROM ledger_outbox ORDER BY seq LIMIT ?'),
      ackOutbox: db.prepare('DELETE FROM ledger_outbox WHERE seq <= ?'),
    }
    this.#transfers = new SqliteTransferStore(db, {
      now: this.#now,
      resolveTenant: (idOrName) => this.#requireTenant(idOrName).id,
      onBucketMoved: (name) => this.#bucketCache.delete(name),
      onKeyChange: (tenantId, keyId, change) =>
        this.#recordKeyChange(tenantId, keyId, change, 'signing-key'),
    })
    this.#kmsKeys = new SqliteKmsKeys(db, {
      cipher,
      now: this.#now,
      onChange: (tenantId, keyId, change) =>
        this.#recordKeyChange(tenantId, keyId, change, 'kek', 'vault-transit'),
    })
  }

  // Customer KMS keys live in sqlite-kms-keys.ts; these delegate to it.
  async addKmsKey(key: NewKmsKey): Promise<KmsKeyRecord> {
    return this.#kmsKeys.add(key, (id) => {
      if (this.#sql.tenantById.get(id) === undefined) throw DirectoryErrors.noSuchTenant(id)
    })
  }
  async listKmsKeys(tenantId: string): Promise<KmsKeyRecord[]> {
    return this.#kmsKeys.list(tenantId)
  }
  async kmsKeyWithToken(tenantId: string, keyId: string): Promise<KmsKeyWithToken | null> {
    return this.#kmsKeys.withToken(tenantId, keyId)
  }
  async removeKmsKey(tenantId: string, keyId: string): Promise<KmsKeyRecord> {
    return this.#kmsKeys.remove(tenantId, keyId)
  }

  // The transfer gate's state lives in sqlite-transfer-store.ts; these delegate to it.
  addSigningKey(options: { tenantId: string; keyId: string; publicKey: string }) {
    return this.#transfers.addSigningKey(options)
  }
  listSigningKeys(tenantIdOrName: string): Promise<SigningKeyRecord[]> {
    return this.#transfers.listSigningKeys(tenantIdOrName)
  }
  getSigningKey(keyId: string): Promise<SigningKeyRecord | null> {
    return this.#transfers.getSigningKey(keyId)
  }
  revokeSigningKey(keyId: string): Promise<SigningKeyRecord> {
    return this.#transfers.revokeSigningKey(keyId)
  }
  nonceUsed(nonce: string): Promise<boolean> {
    return this.#transfers.nonceUsed(nonce)
  }
  recordTransfer(transfer: NewTransfer): Promise<TransferRecord> {
    return this.#transfers.recordTransfer(transfer)
  }
  getTransfer(id: string): Promise<TransferRecord | null> {
    return this.#transfers.getTransfer(id)
  }
  listTransfers(filter?: {
    tenantId?: string
    statuses?: readonly TransferStatus[]
    limit?: number
  }): Promise<TransferRecord[]> {
    return this.#transfers.listTransfers(filter)
  }
  updateTransfer(id: string, update: TransferUpdate): Promise<TransferRecord> {
    return this.#transfers.updateTransfer(id, update)
  }
  moveBucketHome(name: string, fromDc: string, toDc: string): Promise<BucketPlacement> {
    return this.#transfers.moveBucketHome(name, fromDc, toDc)
  }

  async syncDataCenters(catalog: readonly DataCenterInput[]): Promise<void> {
    const now = this.#now()
    this.#db
      .transaction(() => {
        catalog.forEach((dc, position) => {
          const before = this.#sql.getDc.get(dc.id)
          if (before === undefined || before.status !== dc.status) {
            this.#record({
              type: 'dc.change',
              target: dc.id,
              change: before === undefined ? 'added' : 'status',
              jurisdiction: dc.jurisdiction,
              status: dc.status,
            })
          }
          this.#sql.upsertDc.run({
            id: dc.id,
            name: dc.name,
            city: dc.city,
            jurisdiction: dc.jurisdiction,
            status: dc.status,
            port: dc.port,
            storage_path: dc.storagePath ?? null,
            position,
            updated_at: now,
          })
        })
      })
      .immediate()
  }

  async listDataCenters(): Promise<DataCenterRecord[]> {
    return this.#sql.listDcs.all().map((row) => this.#toDataCenter(row))
  }

  async getDataCenter(id: string): Promise<DataCenterRecord | null> {
    const row = this.#sql.getDc.get(id)
    return row === undefined ? null : this.#toDataCenter(row)
  }

  async seedDataCenters(catalog: readonly DataCenterInput[]): Promise<SeedReport> {
    return this.#dataCenters.seed(catalog)
  }

  async addDataCenter(
    input: DataCenterInput,
    options: { reservedPorts?: readonly number[]; actor?: LedgerActor } = {},
  ): Promise<DataCenterRecord> {
    return this.#toDataCenter(
      this.#dataCenters.add(input, options.reservedPorts ?? [], options.actor),
    )
  }

  async transitionDataCenter(
    id: string,
    to: DataCenterTransition,
    actor?: LedgerActor,
  ): Promise<DataCenterRecord> {
    return this.#toDataCenter(this.#dataCenters.transition(id, to, actor))
  }

  async removeDataCenter(id: string): Promise<void> {
    this.#dataCenters.remove(id)
    this.#endpoints.delete(id)
  }

  async countBuckets(dcId: string): Promise<number> {
    return this.#dataCenters.countBuckets(dcId)
  }

  async operatorTokenHash(): Promise<string | null> {
    const row = this.#db
      .prepare<[], { sha256: string }>(`SELECT sha256 FROM operator_tokens WHERE name = 'default'`)
      .get()
    return row?.sha256 ?? null
  }

  async initOperatorTokenHash(sha256: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw DirectoryErrors.invalidArgument('operator token hash', '…', 'expected 64 hex digits')
    }
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO operator_tokens (name, sha256, created_at) VALUES ('default', ?, ?)`,
      )
      .run(sha256, this.#now())
    return (await this.operatorTokenHash()) as string
  }

  async setEndpoint(id: string, url: string): Promise<void> {
    if (this.#sql.getDc.get(id) === undefined) throw DirectoryErrors.noSuchDataCenter(id)
    this.#endpoints.set(id, url)
  }

  async createTenant(options: { name: string; admin?: boolean }): Promise<TenantRecord> {
    validateTenantName(options.name)
    return this.#db
      .transaction(() => this.#insertTenant(options.name, options.admin ?? false))
      .immediate()
  }

  async listTenants(): Promise<TenantRecord[]> {
    return this.#sql.listTenants.all().map(toTenant)
  }

  async getTenant(idOrName: string): Promise<TenantRecord | null> {
    const now = this.#now()
    const cached = this.#tenantCache.get(idOrName)
    if (cached !== undefined && cached.expires > now) return cached.value
    const row = looksLikeTenantId(idOrName)
      ? this.#sql.tenantById.get(idOrName)
      : this.#sql.tenantByName.get(idOrName)
    const value = row === undefined ? null : toTenant(row)
    if (value !== null) remember(this.#tenantCache, idOrName, value, now + this.#cacheTtlMs)
    return value
  }

  async createAccessKey(
    tenantIdOrName: string,
    options: { accessKeyId?: string; secretAccessKey?: string } = {},
  ): Promise<NewAccessKey> {
    const { accessKeyId, secretAccessKey } = options
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw DirectoryErrors.invalidAccessKey(
        accessKeyId ?? '',
        'an imported key needs both an access key id and a secret',
      )
    }
    if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      validateImportedKey(accessKeyId, secretAccessKey)
    }
    return this.#db
      .transaction(() => {
        const tenant = this.#requireTenant(tenantIdOrName)
        return this.#insertKey(tenant.id, accessKeyId, secretAccessKey)
      })
      .immediate()
  }

  async listAccessKeys(tenantIdOrName?: string): Promise<AccessKeyRecord[]> {
    if (tenantIdOrName === undefined) return this.#sql.listKeys.all().map(toAccessKey)
    const tenant = this.#requireTenant(tenantIdOrName)
    return this.#sql.listKeysOf.all(tenant.id).map(toAccessKey)
  }

  async revokeAccessKey(accessKeyId: string): Promise<AccessKeyRecord> {
    this.#keyCache.delete(accessKeyId)
    return this.#db
      .transaction(() => {
        if (this.#sql.getKey.get(accessKeyId) === undefined) {
          throw DirectoryErrors.noSuchAccessKey(accessKeyId)
        }
        const revoked = this.#sql.revokeKey.run(this.#now(), accessKeyId).changes > 0
        const row = this.#sql.getKey.get(accessKeyId)
        if (row === undefined) throw DirectoryErrors.noSuchAccessKey(accessKeyId)
        if (revoked) this.#recordKeyChange(row.tenant_id, accessKeyId, 'revoked')
        return toAccessKey(row)
      })
      .immediate()
  }

  async ledgerSecretOf(tenantId: string): Promise<Buffer> {
    return this.#ledgerSecret(tenantId)
  }

  async readLedgerOutbox(limit: number): Promise<OutboxEntry[]> {
    return this.#sql.readOutbox
      .all(limit)
      .map((row) => ({ seq: row.seq, entry: new Uint8Array(row.entry) }))
  }

  async ackLedgerOutbox(throughSeq: number): Promise<void> {
    this.#sql.ackOutbox.run(throughSeq)
  }

  async lookupAccessKey(accessKeyId: string): Promise<AccessKeyLookup | null> {
    const now = this.#now()
    const cached = this.#keyCache.get(accessKeyId)
    if (cached !== undefined && cached.expires > now) {
      return { tenantId: cached.tenantId, secretAccessKey: cached.secretAccessKey }
    }
    const row = this.#sql.lookupKey.get(accessKeyId)
    if (row === undefined) {
      this.#keyCache.delete(accessKeyId)
      return null
    }
    const found = {
      tenantId: row.tenant_id,
      secretAccessKey: this.#cipher.decrypt(row.secret, accessKeyId),
    }
    if (this.#cacheTtlMs > 0) {
      if (this.#keyCache.size >= MAX_CACHED_KEYS) this.#keyCache.clear()
      this.#keyCache.set(accessKeyId, { ...found, expires: now + this.#cacheTtlMs })
    }
    return found
  }

  async reserveBucket(options: {
    name: string
    tenantId: string
    dcId: string
  }): Promise<BucketPlacement> {
    const { name, tenantId, dcId } = options
    this.#bucketCache.delete(name)
    if (!BUCKET_NAME.test(name) || name.includes('..')) {
      throw DirectoryErrors.invalidArgument('bucket name', name, 'expected an S3 bucket name')
    }
    return this.#db
      .transaction(() => {
        const existing = this.#sql.getBucket.get(name)
        if (existing !== undefined) {
          if (existing.tenant_id === tenantId) {
            throw DirectoryErrors.bucketAlreadyOwnedByYou(name, existing.dc_id)
          }
          throw DirectoryErrors.bucketAlreadyExists(name)
        }
        if (this.#sql.tenantById.get(tenantId) === undefined) {
          throw DirectoryErrors.noSuchTenant(tenantId)
        }
        if (this.#sql.getDc.get(dcId) === undefined) throw DirectoryErrors.noSuchDataCenter(dcId)
        const row: BucketRow = { name, tenant_id: tenantId, dc_id: dcId, created_at: this.#now() }
        this.#sql.insertBucket.run(row)
        return toBucket(row)
      })
      .immediate()
  }

  async releaseBucket(name: string): Promise<void> {
    this.#bucketCache.delete(name)
    const result = this.#sql.deleteBucket.run(name)
    if (result.changes === 0) throw DirectoryErrors.noSuchBucket(name)
  }

  async getBucket(name: string): Promise<BucketPlacement | null> {
    const now = this.#now()
    const cached = this.#bucketCache.get(name)
    if (cached !== undefined && cached.expires > now) return cached.value
    const row = this.#sql.getBucket.get(name)
    const value = row === undefined ? null : toBucket(row)
    remember(this.#bucketCache, name, value, now + this.#cacheTtlMs)
    return value
  }

  async listBuckets(tenantId: string): Promise<BucketPlacement[]> {
    return this.#sql.listBuckets.all(tenantId).map(toBucket)
  }

  async ensureRootTenant(
    options: { accessKeyId?: string; secretAccessKey?: string } = {},
  ): Promise<RootTenant> {
    const { accessKeyId, secretAccessKey } = options
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw DirectoryErrors.invalidAccessKey(
        accessKeyId ?? '',
        'the root key needs both an access key id and a secret',
      )
    }
    if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      validateImportedKey(accessKeyId, secretAccessKey)
    }
    return this.#db
      .transaction((): RootTenant => {
        const existing = this.#sql.tenantByName.get(ROOT_TENANT_NAME)
        if (existing === undefined) {
          const tenant = this.#insertTenant(ROOT_TENANT_NAME, true)
          const key = this.#insertKey(tenant.id, accessKeyId, secretAccessKey)
          return {
            tenant,
            credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
            created: true,
          }
        }
        const tenant = toTenant(existing)
        if (!tenant.admin) {
          throw DirectoryErrors.invalidArgument(
            'root tenant',
            ROOT_TENANT_NAME,
            'a tenant of that name exists without admin rights',
          )
        }
        if (accessKeyId !== undefined && secretAccessKey !== undefined) {
          this.#importRootKey(tenant, accessKeyId, secretAccessKey)
        }
        return { tenant, credentials: null, created: false }
      })
      .immediate()
  }

  async close(): Promise<void> {
    this.#keyCache.clear()
    this.#tenantCache.clear()
    this.#bucketCache.clear()
    if (this.#db.open) this.#db.close()
  }

  /** Imports a configured root key on a later start; a mismatch is an error, never ignored. */
  #importRootKey(tenant: TenantRecord, accessKeyId: string, secretAccessKey: string): void {
    const row = this.#sql.getKey.get(accessKeyId)
    if (row === undefined) {
      this.#insertKey(tenant.id, accessKeyId, secretAccessKey)
      return
    }
    if (row.tenant_id !== tenant.id) {
      throw DirectoryErrors.invalidAccessKey(accessKeyId, 'it belongs to another tenant')
    }
    if (row.status !== 'active') {
      throw DirectoryErrors.invalidAccessKey(
        accessKeyId,
        'it is revoked; configure another root access key',
      )
    }
    if (this.#cipher.decrypt(row.secret, accessKeyId) !== secretAccessKey) {
      throw DirectoryErrors.invalidAccessKey(
        accessKeyId,
        'it exists with a different secret than the configured one',
      )
    }
  }

  /** The tenant's ledger secret, created on first use (also inside a caller's transaction). */
  #ledgerSecret(tenantId: string): Buffer {
    const cached = this.#ledgerSecrets.get(tenantId)
    if (cached !== undefined) return cached
    const aad = `ledger:${tenantId}`
    const read = () =>
      this.#db
        .prepare<[string], { secret: string }>(
          'SELECT secret FROM tenant_ledger_secrets WHERE tenant_id = ?',
        )
        .get(tenantId)
    let row = read()
    if (row === undefined) {
      if (this.#sql.tenantById.get(tenantId) === undefined)
        throw DirectoryErrors.noSuchTenant(tenantId)
      const fresh = this.#cipher.encrypt(randomBytes(32).toString('base64'), aad)
      this.#db
        .prepare(
          'INSERT OR IGNORE INTO tenant_ledger_secrets (tenant_id, secret, created_at) VALUES (?, ?, ?)',
        )
        .run(tenantId, fresh, this.#now())
      row = read()
    }
    if (row === undefined) throw DirectoryErrors.noSuchTenant(tenantId)
    const secret = Buffer.from(this.#cipher.decrypt(row.secret, aad), 'base64')
    // Not cached before the enclosing transaction commits: a rollback would leave a stale secret.
    if (!this.#db.inTransaction) this.#ledgerSecrets.set(tenantId, secret)
    return secret
  }

  /**
   * Writes a directory event to the outbox. Called inside the transaction of the change it
   * describes, so the two commit (or roll back) together.
   */
  #record(body: DirectoryEventBody, actor?: LedgerActor): void {
    const event = {
      schema: LEDGER_EVENT_SCHEMA,
      at: new Date(this.#now()).toISOString(),
      dc: DIRECTORY_LEDGER_ID,
      actor: actor ?? { kind: 'system', component: 'directory' },
      ...body,
    } as LedgerEvent
    this.#sql.insertOutbox.run({ entry: encodeEvent(event), created_at: this.#now() })
  }

  #recordKeyChange(
    tenantId: string,
    keyId: string,
    change: 'created' | 'imported' | 'revoked',
    keyKind: 'access-key' | 'signing-key' | 'kek' = 'access-key',
    provider?: 'vault-transit',
  ) {
    const secret = this.#ledgerSecret(tenantId)
    this.#record({
      type: 'key.change',
      tenant: commit(secret, tenantId),
      keyKind,
      key: commit(secret, keyId),
      change,
      ...(provider === undefined ? {} : { provider }),
    })
  }

  #insertTenant(name: string, admin: boolean): TenantRecord {
    if (this.#sql.tenantByName.get(name) !== undefined) {
      throw DirectoryErrors.tenantAlreadyExists(name)
    }
    const row: TenantRow = {
      id: generateTenantId(),
      name,
      canonical_id: generateCanonicalId(),
      admin: admin ? 1 : 0,
      created_at: this.#now(),
    }
    this.#sql.insertTenant.run(row)
    this.#record({
      type: 'tenant.change',
      tenant: commit(this.#ledgerSecret(row.id), row.id),
      change: 'created',
    })
    return toTenant(row)
  }

  #insertKey(tenantId: string, importedId?: string, importedSecret?: string): NewAccessKey {
    let accessKeyId = importedId ?? generateAccessKeyId()
    if (this.#sql.getKey.get(accessKeyId) !== undefined) {
      if (importedId !== undefined) throw DirectoryErrors.accessKeyAlreadyExists(accessKeyId)
      // 32^16 ids make a collision practically impossible; draw again rather than fail.
      while (this.#sql.getKey.get(accessKeyId) !== undefined) accessKeyId = generateAccessKeyId()
    }
    const secretAccessKey = importedSecret ?? generateSecretAccessKey()
    const createdAt = this.#now()
    this.#sql.insertKey.run({
      access_key_id: accessKeyId,
      tenant_id: tenantId,
      secret: this.#cipher.encrypt(secretAccessKey, accessKeyId),
      status: 'active',
      created_at: createdAt,
      revoked_at: null,
    })
    this.#recordKeyChange(tenantId, accessKeyId, importedId === undefined ? 'created' : 'imported')
    return { accessKeyId, secretAccessKey, tenantId, createdAt }
  }

  #requireTenant(idOrName: string): TenantRecord {
    const row = looksLikeTenantId(idOrName)
      ? this.#sql.tenantById.get(idOrName)
      : this.#sql.tenantByName.get(idOrName)
    if (row === undefined) throw DirectoryErrors.noSuchTenant(idOrName)
    return toTenant(row)
  }

  #toDataCenter(row: DataCenterRow): DataCenterRecord {
    return {
      id: row.id,
      name: row.name,
      city: row.city,
      jurisdiction: row.jurisdiction,
      status: row.status,
      port: row.port,
      storagePath: row.storage_path,
      endpoint: this.#endpoints.get(row.id) ?? null,
    }
  }
}

/** The type-specific fields of a directory event; `#record` adds schema, time, dc and actor. */
type DirectoryEventBody = LedgerEvent extends infer E
  ? E extends LedgerEvent
    ? E['type'] extends 'dc.change' | 'tenant.change' | 'key.change'
      ? Omit<E, 'schema' | 'at' | 'dc' | 'actor'>
      : never
    : never
  : never

function toTenant(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    canonicalId: row.canonical_id,
    admin: row.admin === 1,
    createdAt: row.created_at,
  }
}

function toAccessKey(row: AccessKeyRow): AccessKeyRecord {
  return {
    accessKeyId: row.access_key_id,
    tenantId: row.tenant_id,
    status: row.status,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }
}

function toBucket(row: BucketRow): BucketPlacement {
  return { name: row.name, tenantId: row.tenant_id, dcId: row.dc_id, createdAt: row.created_at }
}

/** Bounded memo: clears wholesale when full (the working set of a gateway is small). */
function remember<V>(
  cache: Map<string, { value: V; expires: number }>,
  key: string,
  value: V,
  expires: number,
): void {
  if (cache.size >= 10_000) cache.clear()
  cache.set(key, { value, expires })
}
