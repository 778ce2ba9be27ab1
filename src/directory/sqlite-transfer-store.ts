import type Database from 'better-sqlite3'
import type {
  BucketPlacement,
  NewTransfer,
  SigningKeyRecord,
  TransferRecord,
  TransferStatus,
  TransferStore,
  TransferUpdate,
} from './directory.js'
import { DirectoryErrors } from './directory-error.js'

const KEY_ID = /^ed25519:[A-Za-z0-9_-]{22}$/
const TRANSFER_ID = /^[0-9a-f]{64}$/

interface SigningKeyRow {
  key_id: string
  tenant_id: string
  public_key: string
  created_at: number
  revoked_at: number | null
}

interface TransferRow {
  id: string
  tenant_id: string
  key_id: string
  signed: string
  operation: 'copy' | 'move' | 'migrate'
  source_dc: string
  source_bucket: string
  destination_dc: string
  destination_bucket: string
  status: TransferStatus
  phase: 'copy' | 'switched' | 'cleanup'
  objects_done: number
  bytes_done: number
  objects_missing: number
  error: string | null
  submitted_at: number
  logged_at: number | null
  updated_at: number
  finished_at: number | null
}

interface BucketRow {
  name: string
  tenant_id: string
  dc_id: string
  created_at: number
}

/**
 * The transfer gate's tables in the directory database (migration 0003): signing keys, nonces,
 * jobs and per-object progress. Every write is one immediate transaction, so a CLI and a server
 * sharing the file agree.
 */
export class SqliteTransferStore implements TransferStore {
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #resolveTenant: (idOrName: string) => string
  readonly #onBucketMoved: (name: string) => void
  readonly #onKeyChange: (tenantId: string, keyId: string, change: 'created' | 'revoked') => void

  constructor(
    db: Database.Database,
    options: {
      now: () => number
      /** The tenant id for an id or name; throws `NoSuchTenant`. */
      resolveTenant: (idOrName: string) => string
      /** Drops cached placements of a bucket whose home moved. */
      onBucketMoved: (name: string) => void
      /** Records a signing key's `key.change` event, inside the change's transaction. */
      onKeyChange: (tenantId: string, keyId: string, change: 'created' | 'revoked') => void
    },
  ) {
    this.#db = db
    this.#now = options.now
    this.#resolveTenant = options.resolveTenant
    this.#onBucketMoved = options.onBucketMoved
    this.#onKeyChange = options.onKeyChange
  }

  async addSigningKey(options: {
    tenantId: string
    keyId: string
    publicKey: string
  }): Promise<SigningKeyRecord> {
    const { keyId, publicKey } = options
    if (!KEY_ID.test(keyId)) {
      throw DirectoryErrors.invalidArgument(
        'signing key id',
        keyId,
        'expected "ed25519:" + 22 characters',
      )
    }
    if (!publicKey.includes('-----BEGIN PUBLIC KEY-----')) {
      throw DirectoryErrors.invalidArgument('signing key', keyId, 'expected an SPKI PEM public key')
    }
    return this.#db
      .transaction(() => {
        const tenantId = this.#resolveTenant(options.tenantId)
        if (this.#keyRow(keyId) !== undefined) throw DirectoryErrors.signingKeyAlreadyExists(keyId)
        const row: SigningKeyRow = {
          key_id: keyId,
          tenant_id: tenantId,
          public_key: publicKey,
          created_at: this.#now(),
          revoked_at: null,
        }
        this.#db
          .prepare(
            `INSERT INTO tenant_signing_keys (key_id, tenant_id, public_key, created_at, revoked_at)
             VALUES (@key_id, @tenant_id, @public_key, @created_at, @revoked_at)`,
          )
          .run(row)
        this.#onKeyChange(tenantId, keyId, 'created')
        return toSigningKey(row)
      })
      .immediate()
  }

  async listSigningKeys(tenantIdOrName: string): Promise<SigningKeyRecord[]> {
    const tenantId = this.#resolveTenant(tenantIdOrName)
    return this.#db
      .prepare<[string], SigningKeyRow>(
        'SELECT * FROM tenant_signing_keys WHERE tenant_id = ? ORDER BY created_at, key_id',
      )
      .all(tenantId)
      .map(toSigningKey)
  }

  async getSigningKey(keyId: string): Promise<SigningKeyRecord | null> {
    const row = this.#keyRow(keyId)
    return row === undefined ? null : toSigningKey(row)
  }

  async revokeSigningKey(keyId: string): Promise<SigningKeyRecord> {
    return this.#db
      .transaction(() => {
        const before = this.#keyRow(keyId)
        if (before === undefined) throw DirectoryErrors.noSuchSigningKey(keyId)
        const { changes } = this.#db
          .prepare(
            'UPDATE tenant_signing_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL',
          )
          .run(this.#now(), keyId)
        if (changes > 0) this.#onKeyChange(before.tenant_id, keyId, 'revoked')
        return toSigningKey(this.#keyRow(keyId) as SigningKeyRow)
      })
      .immediate()
  }

  async nonceUsed(nonce: string): Promise<boolean> {
    return (
      this.#db
        .prepare<[string], { n: number }>('SELECT 1 AS n FROM instruction_nonces WHERE nonce = ?')
        .get(nonce) !== undefined
    )
  }

  async recordTransfer(transfer: NewTransfer): Promise<TransferRecord> {
    if (!TRANSFER_ID.test(transfer.id)) {
      throw DirectoryErrors.invalidArgument('transfer id', transfer.id, 'expected 64 hex digits')
    }
    return this.#db
      .transaction(() => {
        // The check-and-set on the nonce: a unique key, read and written in one immediate transaction.
        if (
          this.#db
            .prepare('SELECT 1 FROM instruction_nonces WHERE nonce = ?')
            .get(transfer.nonce) !== undefined
        ) {
          throw DirectoryErrors.instructionNonceUsed(transfer.nonce)
        }
        const now = this.#now()
        const row: TransferRow = {
          id: transfer.id,
          tenant_id: transfer.tenantId,
          key_id: transfer.keyId,
          signed: transfer.signed,
          operation: transfer.operation,
          source_dc: transfer.source.dc,
          source_bucket: transfer.source.bucket,
          destination_dc: transfer.destination.dc,
          destination_bucket: transfer.destination.bucket,
          status: 'queued',
          phase: 'copy',
          objects_done: 0,
          bytes_done: 0,
          objects_missing: 0,
          error: null,
          submitted_at: now,
          logged_at: null,
          updated_at: now,
          finished_at: null,
        }
        this.#db
          .prepare(
            `INSERT INTO transfers (id, tenant_id, key_id, signed, operation, source_dc, source_bucket,
               destination_dc, destination_bucket, status, phase, objects_done, bytes_done,
               objects_missing, error, submitted_at, logged_at, updated_at, finished_at)
             VALUES (@id, @tenant_id, @key_id, @signed, @operation, @source_dc, @source_bucket,
               @destination_dc, @destination_bucket, @status, @phase, @objects_done, @bytes_done,
               @objects_missing, @error, @submitted_at, @logged_at, @updated_at, @finished_at)`,
          )
          .run(row)
        this.#db
          .prepare('INSERT INTO instruction_nonces (nonce, transfer_id, used_at) VALUES (?, ?, ?)')
          .run(transfer.nonce, transfer.id, now)
        return toTransfer(row)
      })
      .immediate()
  }

  async getTransfer(id: string): Promise<TransferRecord | null> {
    const row = this.#transferRow(id)
    return row === undefined ? null : toTransfer(row)
  }

  async listTransfers(
    filter: { tenantId?: string; statuses?: readonly TransferStatus[] } = {},
  ): Promise<TransferRecord[]> {
    const where: string[] = []
    const params: string[] = []
    if (filter.tenantId !== undefined) {
      where.push('tenant_id = ?')
      params.push(this.#resolveTenant(filter.tenantId))
    }
    if (filter.statuses !== undefined) {
      where.push(`status IN (${filter.statuses.map(() => '?').join(', ') || "''"})`)
      params.push(...filter.statuses)
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    return this.#db
      .prepare<string[], TransferRow>(
        `SELECT * FROM transfers ${clause} ORDER BY submitted_at DESC, id`,
      )
      .all(...params)
      .map(toTransfer)
  }

  async updateTransfer(id: string, update: TransferUpdate): Promise<TransferRecord> {
    return this.#db
      .transaction(() => {
        const row = this.#transferRow(id)
        if (row === undefined) throw DirectoryErrors.noSuchTransfer(id)
        const next: TransferRow = {
          ...row,
          status: update.status ?? row.status,
          phase: update.phase ?? row.phase,
          error: update.error === undefined ? row.error : update.error,
          logged_at: update.loggedAt ?? row.logged_at,
          finished_at: update.finishedAt ?? row.finished_at,
          objects_done: update.counts?.objectsDone ?? row.objects_done,
          bytes_done: update.counts?.bytesDone ?? row.bytes_done,
          objects_missing: update.counts?.objectsMissing ?? row.objects_missing,
          updated_at: this.#now(),
        }
        this.#db
          .prepare(
            `UPDATE transfers SET status = @status, phase = @phase, error = @error,
               logged_at = @logged_at, finished_at = @finished_at, updated_at = @updated_at,
               objects_done = @objects_done, bytes_done = @bytes_done,
               objects_missing = @objects_missing
             WHERE id = @id`,
          )
          .run(next)
        return toTransfer(next)
      })
      .immediate()
  }

  async moveBucketHome(name: string, fromDc: string, toDc: string): Promise<BucketPlacement> {
    try {
      return this.#db
        .transaction(() => {
          const row = this.#db
            .prepare<[string], BucketRow>('SELECT * FROM buckets WHERE name = ?')
            .get(name)
          if (row === undefined) throw DirectoryErrors.noSuchBucket(name)
          if (this.#db.prepare('SELECT 1 FROM data_centers WHERE id = ?').get(toDc) === undefined) {
            throw DirectoryErrors.noSuchDataCenter(toDc)
          }
          if (row.dc_id === toDc) return toBucket(row)
          if (row.dc_id !== fromDc) {
            throw DirectoryErrors.invalidArgument(
              'bucket home',
              name,
              `it lives in "${row.dc_id}", not in "${fromDc}"`,
            )
          }
          this.#db.prepare('UPDATE buckets SET dc_id = ? WHERE name = ?').run(toDc, name)
          return toBucket({ ...row, dc_id: toDc })
        })
        .immediate()
    } finally {
      this.#onBucketMoved(name)
    }
  }

  #keyRow(keyId: string): SigningKeyRow | undefined {
    return this.#db
      .prepare<[string], SigningKeyRow>('SELECT * FROM tenant_signing_keys WHERE key_id = ?')
      .get(keyId)
  }

  #transferRow(id: string): TransferRow | undefined {
    return this.#db.prepare<[string], TransferRow>('SELECT * FROM transfers WHERE id = ?').get(id)
  }
}

function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    keyId: row.key_id,
    tenantId: row.tenant_id,
    publicKey: row.public_key,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }
}

function toTransfer(row: TransferRow): TransferRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    keyId: row.key_id,
    signed: row.signed,
    operation: row.operation,
    source: { dc: row.source_dc, bucket: row.source_bucket },
    destination: { dc: row.destination_dc, bucket: row.destination_bucket },
    status: row.status,
    phase: row.phase,
    objectsDone: row.objects_done,
    bytesDone: row.bytes_done,
    objectsMissing: row.objects_missing,
    error: row.error,
    submittedAt: row.submitted_at,
    loggedAt: row.logged_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  }
}

function toBucket(row: BucketRow): BucketPlacement {
  return { name: row.name, tenantId: row.tenant_id, dcId: row.dc_id, createdAt: row.created_at }
}
