import type { LedgerActor, OutboxEntry } from '../ledger/index.js'

/** Lifecycle states of a data center, as the directory stores them. */
export type DataCenterState = 'planned' | 'active' | 'draining' | 'retired'

/** One catalog entry as configuration describes it (structurally the config's DataCenterConfig). */
export interface DataCenterInput {
  readonly id: string
  readonly name: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: DataCenterState
  readonly port: number
  /** Absolute folder of the data center's files; absent or null: `<dataDir>/dcs/<id>`. */
  readonly storagePath?: string | null
}

/** A data center as the directory knows it; `endpoint` is set by the running server only. */
export interface DataCenterRecord extends DataCenterInput {
  readonly storagePath: string | null
  /** The S3 endpoint URL, known only in the process that listens; `null` elsewhere. */
  readonly endpoint: string | null
}

/** A lifecycle step an operator can ask for: `planned → active → draining → retired`. */
export type DataCenterTransition = 'active' | 'draining' | 'retired'

/** What `seedDataCenters` did with the configured catalog. */
export interface SeedReport {
  /** Ids of configured data centers that were not in the directory and were added. */
  readonly added: readonly string[]
  /**
   * Fields where the configuration and the directory disagree and the directory was kept
   * (everything but `port`, which configuration always sets).
   */
  readonly kept: ReadonlyArray<{
    readonly id: string
    readonly field: 'name' | 'city' | 'jurisdiction' | 'status' | 'storagePath'
    readonly config: string
    readonly directory: string
  }>
}

/** A customer account. */
export interface TenantRecord {
  /** `t-` and 16 hex characters; never changes. */
  readonly id: string
  /** Unique, DNS-label-like name chosen by the operator. */
  readonly name: string
  /** 64 hex characters, shown as the S3 canonical user id. */
  readonly canonicalId: string
  /** Whether the tenant may use the admin API. */
  readonly admin: boolean
  /** Milliseconds since the epoch. */
  readonly createdAt: number
}

/** An access key without its secret. */
export interface AccessKeyRecord {
  readonly accessKeyId: string
  readonly tenantId: string
  readonly status: 'active' | 'revoked'
  readonly createdAt: number
  readonly revokedAt: number | null
}

/** A newly created access key; the only time its secret is handed out. */
export interface NewAccessKey {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly tenantId: string
  readonly createdAt: number
}

/** What SigV4 verification needs for an active key. */
export interface AccessKeyLookup {
  readonly tenantId: string
  readonly secretAccessKey: string
}

/** The data center a bucket name belongs to. */
export interface BucketPlacement {
  readonly name: string
  readonly tenantId: string
  readonly dcId: string
  readonly createdAt: number
}

/** An access key id and secret. */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

/** An Ed25519 public key a tenant registered for signing transfer instructions. */
export interface SigningKeyRecord {
  /** `ed25519:` + base64url(SHA-256(raw key)[0:16]), computed by the caller (residency). */
  readonly keyId: string
  readonly tenantId: string
  /** SPKI PEM. */
  readonly publicKey: string
  readonly createdAt: number
  /** Set once revoked; a revoked key stays listed and its id is never reused. */
  readonly revokedAt: number | null
}

/** Where a customer KMS key lives: its key service and how to reach it (no secret). */
export interface KmsKeyLocation {
  /** The only provider today: HashiCorp Vault / OpenBao Transit, or `sovra keyd`. */
  readonly provider: 'vault-transit'
  /** Base URL of the key service (http or https). */
  readonly address: string
  /** Transit mount path, for example `transit`. */
  readonly mount: string
  /** The Transit key's name. */
  readonly keyName: string
  /** Vault Enterprise / OpenBao namespace, or null. */
  readonly namespace: string | null
}

/** A customer KMS key a tenant registered, without its token. */
export interface KmsKeyRecord extends KmsKeyLocation {
  readonly tenantId: string
  /** What the tenant names in KMSMasterKeyID; unique per tenant, never reused. */
  readonly keyId: string
  /** Data center ids the key may be used in; null for any. */
  readonly dataCenters: readonly string[] | null
  readonly createdAt: number
  /** Set once the tenant removed the key; it then wraps and unwraps nothing. */
  readonly disabledAt: number | null
}

/** What registering a KMS key stores. */
export interface NewKmsKey extends KmsKeyLocation {
  readonly tenantId: string
  readonly keyId: string
  /** The key service token (a secret: stored encrypted, never returned). */
  readonly token: string
  readonly dataCenters: readonly string[] | null
}

/** A registered key with its token, for the composition root's key providers only. */
export interface KmsKeyWithToken extends KmsKeyRecord {
  /** The key service token; null once the key was removed. */
  readonly token: string | null
}

/** Lifecycle of a transfer job. */
export type TransferStatus = 'queued' | 'running' | 'done' | 'failed'

/** Where a job is: copying objects, or (migrate) home switched, then removing the source copy. */
export type TransferPhase = 'copy' | 'switched' | 'cleanup'

/** One end of a transfer. */
export interface TransferEnd {
  readonly dc: string
  readonly bucket: string
}

/** A transfer the gate accepted, with its durable progress. */
export interface TransferRecord {
  /** SHA-256 hex of the instruction's canonical bytes. */
  readonly id: string
  readonly tenantId: string
  readonly keyId: string
  /** The signed instruction document as submitted (JSON text). */
  readonly signed: string
  readonly operation: 'copy' | 'move' | 'migrate'
  readonly source: TransferEnd
  readonly destination: TransferEnd
  readonly status: TransferStatus
  readonly phase: TransferPhase
  readonly objectsDone: number
  readonly bytesDone: number
  readonly objectsMissing: number
  readonly error: string | null
  readonly submittedAt: number
  /** When the instruction was recorded in both ledgers; null before. */
  readonly loggedAt: number | null
  readonly updatedAt: number
  readonly finishedAt: number | null
}

/** What `recordTransfer` stores, with the nonce it consumes. */
export interface NewTransfer {
  readonly id: string
  readonly tenantId: string
  readonly keyId: string
  readonly nonce: string
  readonly signed: string
  readonly operation: 'copy' | 'move' | 'migrate'
  readonly source: TransferEnd
  readonly destination: TransferEnd
}

/** Changes to a transfer's status fields. */
export interface TransferUpdate {
  readonly status?: TransferStatus
  readonly phase?: TransferPhase
  readonly error?: string | null
  readonly loggedAt?: number
  readonly finishedAt?: number
  /** The job's counters, as the destination cell counts them (its per-object progress lives there). */
  readonly counts?: {
    readonly objectsDone: number
    readonly bytesDone: number
    readonly objectsMissing: number
  }
}

/**
 * The transfer gate's durable state: signing keys, nonces, jobs and their counters. Per-object
 * progress (object names) lives in the destination cell, never here.
 */
export interface TransferStore {
  /** Registers a signing key for a tenant. */
  addSigningKey(options: {
    tenantId: string
    keyId: string
    publicKey: string
  }): Promise<SigningKeyRecord>
  /** A tenant's signing keys, revoked ones included. */
  listSigningKeys(tenantIdOrName: string): Promise<SigningKeyRecord[]>
  /** One signing key, or null. */
  getSigningKey(keyId: string): Promise<SigningKeyRecord | null>
  /** Marks a key revoked (idempotent); it stays listed. */
  revokeSigningKey(keyId: string): Promise<SigningKeyRecord>
  /** Whether a nonce was ever consumed. */
  nonceUsed(nonce: string): Promise<boolean>
  /**
   * In one transaction: consumes the nonce (refused with `InstructionNonceUsed` if it was used)
   * and records the transfer as `queued`.
   */
  recordTransfer(transfer: NewTransfer): Promise<TransferRecord>
  getTransfer(id: string): Promise<TransferRecord | null>
  /** Transfers, newest first; filtered by tenant and/or statuses. */
  listTransfers(filter?: {
    tenantId?: string
    statuses?: readonly TransferStatus[]
    /** At most this many (the newest). */
    limit?: number
  }): Promise<TransferRecord[]>
  updateTransfer(id: string, update: TransferUpdate): Promise<TransferRecord>
  /**
   * Switches a bucket's home data center atomically: only if it is still in `fromDc`
   * (idempotent when it is already in `toDc`).
   */
  moveBucketHome(name: string, fromDc: string, toDc: string): Promise<BucketPlacement>
}

/** The result of `ensureRootTenant`. */
export interface RootTenant {
  readonly tenant: TenantRecord
  /** The root key and secret, handed out once: only on the first start. */
  readonly credentials: Credentials | null
  /** True on the first start, when the admin tenant was created. */
  readonly created: boolean
}

/** The small global catalog: DCs, tenants, access keys, bucket → DC map, transfer state. */
export interface Directory extends TransferStore {
  /**
   * Inserts or overwrites every data center of a catalog (others are kept): for tests and tools
   * that set up a directory. `serve` uses `seedDataCenters`, which never overwrites run-time
   * changes.
   */
  syncDataCenters(catalog: readonly DataCenterInput[]): Promise<void>
  /** All known data centers, in catalog order. */
  listDataCenters(): Promise<DataCenterRecord[]>
  /** One data center, or null. */
  getDataCenter(id: string): Promise<DataCenterRecord | null>
  /**
   * Seeds the catalog from configuration. The directory is the source of truth once a data
   * center is in it: a configured data center that is missing is added (at the end); for one that
   * exists only the port is taken from configuration (ports are a deployment detail), and every
   * other disagreement is reported and the directory's value kept.
   */
  seedDataCenters(catalog: readonly DataCenterInput[]): Promise<SeedReport>
  /**
   * Adds a data center at run time (status `planned` or `active`). Refuses an invalid id, an id
   * already in the catalog (retired ones included), an unknown jurisdiction, and a non-zero port
   * that a data center (not retired) or `reservedPorts` already uses. Changes nothing on error.
   */
  addDataCenter(
    input: DataCenterInput,
    options?: { reservedPorts?: readonly number[]; actor?: LedgerActor },
  ): Promise<DataCenterRecord>
  /**
   * Moves a data center one lifecycle step (`planned → active → draining → retired`), checked and
   * written in one transaction; retiring refuses while the directory places a bucket there.
   * Both record a `dc.change` event in the directory's log, naming `actor` (default: the
   * directory itself).
   */
  transitionDataCenter(
    id: string,
    to: DataCenterTransition,
    actor?: LedgerActor,
  ): Promise<DataCenterRecord>
  /**
   * Undoes an `addDataCenter` whose endpoint could not start: removes a data center that holds
   * no bucket. Not a lifecycle step (retired data centers stay in the catalog for good).
   */
  removeDataCenter(id: string): Promise<void>
  /** How many buckets the directory places in a data center. */
  countBuckets(dcId: string): Promise<number>
  /** The SHA-256 (hex) of the operator token, or null before the first start created it. */
  operatorTokenHash(): Promise<string | null>
  /** Stores the operator token's SHA-256 unless one is stored; returns the hash now in force. */
  initOperatorTokenHash(sha256: string): Promise<string>
  /** Records the endpoint URL a data center listens on (in memory, this process only). */
  setEndpoint(id: string, url: string): Promise<void>

  /** Creates a tenant with a unique name. */
  createTenant(options: { name: string; admin?: boolean }): Promise<TenantRecord>
  /** All tenants, by name. */
  listTenants(): Promise<TenantRecord[]>
  /** A tenant by id or name, or null. */
  getTenant(idOrName: string): Promise<TenantRecord | null>

  /** Creates (or imports, when both values are given) an access key for a tenant. */
  createAccessKey(
    tenantIdOrName: string,
    options?: { accessKeyId?: string; secretAccessKey?: string },
  ): Promise<NewAccessKey>
  /** Access keys (without secrets) of one tenant, or of all tenants. */
  listAccessKeys(tenantIdOrName?: string): Promise<AccessKeyRecord[]>
  /** Marks a key revoked; it stays listed for audit and its id is never reused. */
  revokeAccessKey(accessKeyId: string): Promise<AccessKeyRecord>
  /** The tenant and secret of an active key, or null; on every request's path. */
  lookupAccessKey(accessKeyId: string): Promise<AccessKeyLookup | null>
  /**
   * The tenant's ledger secret (32 bytes, created on first use): the HMAC key of the salted
   * commitments standing for its object keys and ids in the public log. The tenant can fetch it.
   */
  ledgerSecretOf(tenantId: string): Promise<Buffer>

  /**
   * Registers a customer KMS key for a tenant and records a `key.change` event (`kek`,
   * `vault-transit`, `created`) in the same transaction. Refuses an id the tenant already used
   * (`KmsKeyAlreadyExists`).
   */
  addKmsKey(key: NewKmsKey): Promise<KmsKeyRecord>
  /** A tenant's KMS keys (removed ones included), without tokens, oldest first. */
  listKmsKeys(tenantId: string): Promise<KmsKeyRecord[]>
  /** One KMS key with its token (null once removed), or null when the tenant has no such key. */
  kmsKeyWithToken(tenantId: string, keyId: string): Promise<KmsKeyWithToken | null>
  /**
   * Removes a KMS key: marks it disabled, erases its token and records a `key.change` event
   * (`revoked`) in the same transaction. `NoSuchKmsKey` when unknown; idempotent once removed.
   */
  removeKmsKey(tenantId: string, keyId: string): Promise<KmsKeyRecord>

  /** Reserves a globally unique bucket name in one data center. */
  reserveBucket(options: { name: string; tenantId: string; dcId: string }): Promise<BucketPlacement>
  /** Frees a bucket name. */
  releaseBucket(name: string): Promise<void>
  /** Where a bucket lives, or null. */
  getBucket(name: string): Promise<BucketPlacement | null>
  /** A tenant's buckets, by name. */
  listBuckets(tenantId: string): Promise<BucketPlacement[]>

  /** Creates the admin tenant and its key on first start; imports a configured key later. */
  ensureRootTenant(options?: {
    accessKeyId?: string
    secretAccessKey?: string
  }): Promise<RootTenant>

  /** Closes the database. */
  /**
   * Events of catalog, tenant and key changes not yet in the directory's log, oldest first. Each
   * was written in the same transaction as its change.
   */
  readLedgerOutbox(limit: number): Promise<OutboxEntry[]>
  /** Forgets outbox entries up to and including `seq`, once the log has sequenced them. */
  ackLedgerOutbox(throughSeq: number): Promise<void>
  close(): Promise<void>
}
