import type Database from 'better-sqlite3'
import type { KmsKeyRecord, KmsKeyWithToken, NewKmsKey } from './directory.js'
import { DirectoryErrors } from './directory-error.js'
import type { SecretsCipher } from './secrets-cipher.js'

/** Same shapes as keys/kms-key-id.ts and the Transit provider; re-checked here, at the store. */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

interface KmsKeyRow {
  tenant_id: string
  key_id: string
  provider: 'vault-transit'
  address: string
  mount: string
  key_name: string
  namespace: string | null
  token: string | null
  data_centers: string | null
  created_at: number
  disabled_at: number | null
}

/**
 * Tenants' customer KMS keys in the directory database (migration 0008). Tokens are encrypted
 * with the directory's secrets key, bound to tenant and key id; only `withToken` decrypts one.
 * Each change records its `key.change` event inside its own immediate transaction.
 */
export class SqliteKmsKeys {
  readonly #db: Database.Database
  readonly #cipher: SecretsCipher
  readonly #now: () => number
  readonly #onChange: (tenantId: string, keyId: string, change: 'created' | 'revoked') => void

  constructor(
    db: Database.Database,
    options: {
      cipher: SecretsCipher
      now: () => number
      /** Records the key's `key.change` event, inside the change's transaction. */
      onChange: (tenantId: string, keyId: string, change: 'created' | 'revoked') => void
    },
  ) {
    this.#db = db
    this.#cipher = options.cipher
    this.#now = options.now
    this.#onChange = options.onChange
  }

  add(key: NewKmsKey, requireTenant: (id: string) => void): KmsKeyRecord {
    if (!KEY_ID.test(key.keyId)) {
      throw DirectoryErrors.invalidArgument('KMS key id', key.keyId, `expected ${KEY_ID.source}`)
    }
    if (!KEY_NAME.test(key.keyName)) {
      throw DirectoryErrors.invalidArgument(
        'Transit key name',
        key.keyName,
        `expected ${KEY_NAME.source}`,
      )
    }
    if (!/^https?:\/\/[^\s]+$/.test(key.address)) {
      throw DirectoryErrors.invalidArgument('key service address', key.address, 'expected http(s)')
    }
    if (key.token === '') throw DirectoryErrors.invalidArgument('token', '…', 'expected a token')
    return this.#db
      .transaction(() => {
        requireTenant(key.tenantId)
        if (this.#row(key.tenantId, key.keyId) !== undefined) {
          throw DirectoryErrors.kmsKeyAlreadyExists(key.keyId)
        }
        const row: KmsKeyRow = {
          tenant_id: key.tenantId,
          key_id: key.keyId,
          provider: key.provider,
          address: key.address,
          mount: key.mount,
          key_name: key.keyName,
          namespace: key.namespace,
          token: this.#cipher.encrypt(key.token, aadOf(key.tenantId, key.keyId)),
          data_centers: key.dataCenters === null ? null : JSON.stringify(key.dataCenters),
          created_at: this.#now(),
          disabled_at: null,
        }
        this.#db
          .prepare(
            `INSERT INTO tenant_kms_keys (tenant_id, key_id, provider, address, mount, key_name,
               namespace, token, data_centers, created_at, disabled_at)
             VALUES (@tenant_id, @key_id, @provider, @address, @mount, @key_name, @namespace,
               @token, @data_centers, @created_at, @disabled_at)`,
          )
          .run(row)
        this.#onChange(key.tenantId, key.keyId, 'created')
        return toRecord(row)
      })
      .immediate()
  }

  list(tenantId: string): KmsKeyRecord[] {
    return this.#db
      .prepare<[string], KmsKeyRow>(
        'SELECT * FROM tenant_kms_keys WHERE tenant_id = ? ORDER BY created_at, key_id',
      )
      .all(tenantId)
      .map(toRecord)
  }

  withToken(tenantId: string, keyId: string): KmsKeyWithToken | null {
    const row = this.#row(tenantId, keyId)
    if (row === undefined) return null
    return {
      ...toRecord(row),
      token: row.token === null ? null : this.#cipher.decrypt(row.token, aadOf(tenantId, keyId)),
    }
  }

  remove(tenantId: string, keyId: string): KmsKeyRecord {
    return this.#db
      .transaction(() => {
        const row = this.#row(tenantId, keyId)
        if (row === undefined) throw DirectoryErrors.noSuchKmsKey(keyId)
        if (row.disabled_at !== null) return toRecord(row)
        const now = this.#now()
        this.#db
          .prepare(
            'UPDATE tenant_kms_keys SET token = NULL, disabled_at = ? WHERE tenant_id = ? AND key_id = ?',
          )
          .run(now, tenantId, keyId)
        this.#onChange(tenantId, keyId, 'revoked')
        return toRecord({ ...row, token: null, disabled_at: now })
      })
      .immediate()
  }

  #row(tenantId: string, keyId: string): KmsKeyRow | undefined {
    return this.#db
      .prepare<[string, string], KmsKeyRow>(
        'SELECT * FROM tenant_kms_keys WHERE tenant_id = ? AND key_id = ?',
      )
      .get(tenantId, keyId)
  }
}

/** The token's associated data: a ciphertext moved to another key's row does not decrypt. */
function aadOf(tenantId: string, keyId: string): string {
  return `kms-key:${tenantId}:${keyId}`
}

function toRecord(row: KmsKeyRow): KmsKeyRecord {
  return {
    tenantId: row.tenant_id,
    keyId: row.key_id,
    provider: row.provider,
    address: row.address,
    mount: row.mount,
    keyName: row.key_name,
    namespace: row.namespace,
    dataCenters: row.data_centers === null ? null : (JSON.parse(row.data_centers) as string[]),
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  }
}
