import { type FileHandle, mkdir, open, readdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { LifecycleConfiguration, LifecycleObjectFacts } from '../lifecycle.js'
import { MetaErrors, type PreconditionReason } from '../meta-error.js'
import type {
  AccessControlList,
  BlobPart,
  BucketEncryption,
  BucketRecord,
  ChecksumAlgorithm,
  CorsRule,
  DeleteObjectOptions,
  DeleteObjectResult,
  LedgerOutboxEntry,
  ListObjectsOptions,
  ListObjectsResult,
  ListUploadsOptions,
  ListUploadsResult,
  ListVersionsOptions,
  ListVersionsResult,
  LockOptions,
  MetaStore,
  MultipartUploadRecord,
  ObjectEncryption,
  ObjectLockConfiguration,
  ObjectOwnership,
  ObjectRecord,
  ObjectRetention,
  ObjectSummary,
  PartRecord,
  PublicAccessBlock,
  StoredWrappedKey,
  Tag,
  TransferCounts,
  TransferObjectProgress,
  VersioningStatus,
  VersionLookup,
  VersionSelector,
  VersionSummary,
  WrappedKeyCursor,
  WrappedKeyPage,
  WriteCondition,
  WriteOptions,
} from '../meta-store.js'
import { ReadCache } from './read-cache.js'
import { type LifecycleTable, prepareLifecycle } from './sqlite-lifecycle.js'
import { prepareTransferProgress, type TransferProgressTable } from './sqlite-transfer-progress.js'

/** Settings of the SQLite driver; only `path` is required. */
export interface SqliteMetaStoreConfig {
  readonly driver: 'sqlite'
  /** Database file; its folder is created if missing. */
  readonly path: string
  /** How long a statement waits for a lock held by another connection (default 5000 ms). */
  readonly busyTimeoutMs?: number
  /** Most write operations committed in one transaction (default 256). */
  readonly maxBatch?: number
  /**
   * Page cache size in KiB (default 8192). Every data center has its own store, and a full cache
   * stays resident (malloc never hands it back), so this bounds the server's RSS; pages beyond it
   * are read again from the OS page cache (docs/benchmarks.md, S3 section, RSS, 2026-11-28).
   */
  readonly cacheSizeKiB?: number
}

type Checksums = Partial<Record<ChecksumAlgorithm, string>>

interface BucketRow {
  name: string
  tenant_id: string
  created_at: number
  encryption: string | null
  tags: string | null
  cors: string | null
  versioning: VersioningStatus | null
  policy: string | null
  acl: string | null
  ownership: ObjectOwnership | null
  public_access_block: string | null
  object_lock: string | null
}

interface ObjectRow {
  bucket: string
  key: string
  version_id: string | null
  size: number
  etag: string
  last_modified: number
  checksums: string
  checksum_type: 'FULL_OBJECT' | 'COMPOSITE' | null
  headers: string
  user_metadata: string
  parts_count: number | null
  part_sizes: string | null
  part_checksums: string | null
  blob_parts: string | null
  encryption: string | null
  tags: string | null
  lock_mode: ObjectRetention['mode'] | null
  lock_until: number | null
  legal_hold: number
  acl: string | null
  inline_data?: Buffer | null
  inline_key?: string | null
}

/** An `object_versions` row: a noncurrent version or a delete marker. */
interface VersionRow extends ObjectRow {
  seq: number
  delete_marker: number
}

/** A version's Object Lock columns. */
interface LockColumns {
  lock_mode: ObjectRetention['mode'] | null
  lock_until: number | null
  legal_hold: number
}

/** The current version's fields a write checks and releases. */
interface CurrentRef extends LockColumns {
  etag: string
  blob_parts: string | null
  version_id: string | null
  seq: number
}

/** A row of a version listing, from either table. */
interface VersionListRow {
  key: string
  seq: number
  version_id: string | null
  delete_marker: number
  size: number
  etag: string
  last_modified: number
  checksums: string
}

/**
 * A listing row as an array (`SUMMARY_COLUMNS` in order): listings read them in raw mode, which
 * costs better-sqlite3 less than half of building an object per row.
 */
type SummaryRow = [key: string, size: number, etag: string, lastModified: number, checksums: string]

interface UploadRow {
  upload_id: string
  bucket: string
  key: string
  initiated: number
  tenant_id: string
  headers: string
  user_metadata: string
  checksum_algorithm: ChecksumAlgorithm | null
  checksum_type: 'FULL_OBJECT' | 'COMPOSITE' | null
  encryption: string | null
  tags: string | null
  acl: string | null
  object_lock: string | null
}

interface PartRow {
  upload_id: string
  part_number: number
  size: number
  etag: string
  last_modified: number
  checksums: string
  blob_ref: string
  blob_size: number
  wrapped_key: string | null
}

interface WrappedKeyRow {
  key: string
  blob_parts: string | null
  inline_key: string | null
}

interface VersionKeyRow extends WrappedKeyRow {
  seq: number
  version_id: string | null
}

interface PendingWrite {
  readonly run: () => unknown
  /** Ledger events the op added to the outbox (counted once the batch is durable). */
  readonly events: number
  readonly resolve: (value: unknown) => void
  readonly reject: (err: unknown) => void
}

type BatchResult = { ok: true; value: unknown } | { ok: false; err: unknown }

type Orphans = { readonly orphaned: readonly BlobPart[] }

/**
 * 8 MiB of SQLite page cache per store (SQLite's own default is 2 MiB). It was 64 MiB: 4 KiB objects
 * are stored inline, so a few minutes of small PUTs filled it, ~56 MiB of the server's RSS in the
 * S3 benchmark, once per data center that takes writes.
 */
const DEFAULT_CACHE_KIB = 8192
const MIGRATIONS_URL = new URL('./migrations/', import.meta.url)
const MIGRATION_FILE = /^(\d{4})-[a-z0-9-]+\.sql$/
const OBJECT_COLUMNS =
  'bucket, key, version_id, size, etag, last_modified, checksums, checksum_type, headers, user_metadata, parts_count, part_sizes, blob_parts, encryption, tags, part_checksums, acl, lock_mode, lock_until, legal_hold'
const LOCK_COLUMNS = 'lock_mode, lock_until, legal_hold'
const SUMMARY_COLUMNS = 'key, size, etag, last_modified, checksums'
const VERSION_LIST_COLUMNS =
  'key, seq, version_id, delete_marker, size, etag, last_modified, checksums'
const UPLOAD_COLUMNS =
  'upload_id, bucket, key, initiated, tenant_id, headers, user_metadata, checksum_algorithm, checksum_type, encryption, tags, acl, object_lock'

/** `columns` (a comma-separated list) each prefixed with the table alias `alias`. */
function qualified(alias: string, columns: string): string {
  return columns
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ')
}

/** Opens (creating and migrating if needed) a SQLite metadata store. */
export async function openSqliteMetaStore(config: SqliteMetaStoreConfig): Promise<SqliteMetaStore> {
  await mkdir(dirname(config.path), { recursive: true })
  const migrations = await loadMigrations()
  const db = new Database(config.path)
  try {
    db.pragma('journal_mode = WAL')
    // NORMAL: SQLite does not fsync the WAL at commit; the store fdatasyncs the WAL file itself
    // from libuv's thread pool after each batch and only then settles the batch (see #flush), so
    // an acknowledged write survives power loss while the event loop never blocks on the disk.
    db.pragma('synchronous = NORMAL')
    db.pragma(`busy_timeout = ${Math.trunc(config.busyTimeoutMs ?? 5000)}`)
    db.pragma(`cache_size = -${Math.trunc(config.cacheSizeKiB ?? DEFAULT_CACHE_KIB)}`)
    migrate(db, migrations)
  } catch (err) {
    db.close()
    throw err
  }
  return new SqliteMetaStore(db, config)
}

/** A numbered SQL migration read from `migrations/`. */
interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

async function loadMigrations(): Promise<Migration[]> {
  const names = (await readdir(MIGRATIONS_URL)).filter((n) => MIGRATION_FILE.test(n)).sort()
  const migrations: Migration[] = []
  for (const name of names) {
    const version = Number(name.slice(0, 4))
    if (version !== migrations.length + 1) {
      throw new Error(`Cannot load migration "${name}": expected number ${migrations.length + 1}`)
    }
    migrations.push({ version, name, sql: await readFile(new URL(name, MIGRATIONS_URL), 'utf8') })
  }
  return migrations
}

function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > migrations.length) {
    throw new Error(
      `Cannot open metadata database: its schema version "${current}" is newer than this build's "${migrations.length}"`,
    )
  }
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql)
      // user_version lives in the database header and commits with the migration.
      db.pragma(`user_version = ${m.version}`)
    }).immediate()
  }
}

/**
 * MetaStore on better-sqlite3. Reads run at once; writes queue and commit in batches (group
 * commit), each op in its own SAVEPOINT so one failure does not fail its neighbours.
 */
export class SqliteMetaStore implements MetaStore {
  readonly #db: Database.Database
  readonly #config: Readonly<SqliteMetaStoreConfig>
  readonly #maxBatch: number
  #queue: PendingWrite[] = []
  #wal: Promise<FileHandle> | undefined
  readonly #syncing = new Set<Promise<void>>()
  #flushScheduled = false
  #closed = false
  #outboxSize: number
  #onOutbox: (() => void) | undefined
  /** The last outbox row written by a committed transaction (maybe not fsynced yet). */
  #lastOutboxSeq = 0
  /** Outbox rows up to here are fsynced: only they may reach the log. */
  #durableOutboxSeq = 0
  /** The last version `seq` handed out (writes are serialised, so a counter suffices). */
  #versionSeq: number
  readonly #s: Statements
  readonly #transfers: TransferProgressTable
  readonly #lifecycle: LifecycleTable
  /** Bucket records and lifecycle configurations as last read; see `#writeBucket`. */
  readonly #buckets = new ReadCache<BucketRecord | null>()
  readonly #lifecycles = new ReadCache<LifecycleConfiguration | null>()
  readonly #runBatch: Database.Transaction<
    (batch: readonly PendingWrite[], results: BatchResult[]) => void
  >

  /** Use `openSqliteMetaStore`; this expects a migrated database. */
  constructor(db: Database.Database, config: SqliteMetaStoreConfig) {
    this.#db = db
    this.#config = Object.freeze({ ...config })
    this.#maxBatch = Math.max(1, this.#config.maxBatch ?? 256)
    this.#s = prepareStatements(db)
    this.#transfers = prepareTransferProgress(db)
    this.#lifecycle = prepareLifecycle(db)
    const outbox = this.#s.countOutbox.get()
    this.#outboxSize = outbox?.count ?? 0
    this.#lastOutboxSeq = outbox?.last ?? 0
    this.#durableOutboxSeq = this.#lastOutboxSeq
    this.#versionSeq = this.#s.maxVersionSeq.get()?.seq ?? 0
    const savepoint = db.transaction((run: () => unknown) => run())
    this.#runBatch = db.transaction((batch: readonly PendingWrite[], results: BatchResult[]) => {
      for (const op of batch) {
        try {
          results.push({ ok: true, value: savepoint(op.run) })
        } catch (err) {
          results.push({ ok: false, err })
          // A few errors (disk full, I/O) make SQLite roll the whole transaction back.
          if (!db.inTransaction) throw err
        }
      }
    })
  }

  // ── buckets ──────────────────────────────────────────────────────────────────

  /** Creates a bucket; `BucketAlreadyExists` if the name is taken. */
  createBucket(bucket: BucketRecord, options?: WriteOptions): Promise<void> {
    return this.#writeBucket(
      bucket.name,
      () => {
        const inserted = this.#s.insertBucket.run(
          bucket.name,
          bucket.tenantId,
          bucket.createdAt,
          bucket.policy ?? null,
          aclJson(bucket.acl ?? null),
          bucket.ownership ?? null,
          bucket.publicAccessBlock == null
            ? null
            : JSON.stringify(publicAccessBlockJson(bucket.publicAccessBlock)),
          bucket.objectLock == null ? null : JSON.stringify(objectLockJson(bucket.objectLock)),
          bucket.versioning ?? null,
        )
        if (inserted.changes === 0) throw MetaErrors.bucketAlreadyExists(bucket.name)
      },
      options,
    )
  }

  /** The bucket, or null. */
  getBucket(name: string): Promise<BucketRecord | null> {
    return this.#read(() => this.#buckets.get(name, () => this.#loadBucket(name)))
  }

  #loadBucket(name: string): BucketRecord | null {
    const row = this.#s.getBucket.get(name)
    if (row === undefined) return null
    return {
      name: row.name,
      tenantId: row.tenant_id,
      createdAt: row.created_at,
      ...(row.encryption === null
        ? {}
        : { encryption: JSON.parse(row.encryption) as BucketEncryption }),
      ...(row.tags === null ? {} : { tags: tagsOf(row.tags) }),
      ...(row.cors === null ? {} : { cors: JSON.parse(row.cors) as CorsRule[] }),
      ...(row.versioning === null ? {} : { versioning: row.versioning }),
      ...(row.policy === null ? {} : { policy: row.policy }),
      ...(row.acl === null ? {} : { acl: JSON.parse(row.acl) as AccessControlList }),
      ...(row.ownership === null ? {} : { ownership: row.ownership }),
      ...(row.public_access_block === null
        ? {}
        : { publicAccessBlock: JSON.parse(row.public_access_block) as PublicAccessBlock }),
      ...(row.object_lock === null
        ? {}
        : { objectLock: JSON.parse(row.object_lock) as ObjectLockConfiguration }),
    }
  }

  /** Sets the bucket's versioning state. */
  setBucketVersioning(
    name: string,
    status: VersioningStatus,
    options?: WriteOptions,
  ): Promise<void> {
    return this.#writeBucket(
      name,
      () => {
        this.#requireBucket(name)
        this.#s.setBucketVersioning.run(status, name)
      },
      options,
    )
  }

  /** Sets or removes the bucket's default encryption. */
  setBucketEncryption(name: string, encryption: BucketEncryption | null): Promise<void> {
    return this.#writeBucket(name, () => {
      this.#requireBucket(name)
      this.#s.setBucketEncryption.run(
        encryption === null
          ? null
          : JSON.stringify({
              algorithm: encryption.algorithm,
              kmsKeyId: encryption.kmsKeyId,
              bucketKeyEnabled: encryption.bucketKeyEnabled,
            }),
        name,
      )
    })
  }

  /** Sets or removes the bucket's tag set. */
  setBucketTags(name: string, tags: readonly Tag[] | null, options?: WriteOptions): Promise<void> {
    return this.#writeBucket(
      name,
      () => {
        this.#requireBucket(name)
        this.#s.setBucketTags.run(tags === null ? null : JSON.stringify(tags.map(tagJson)), name)
      },
      options,
    )
  }

  /** Sets or removes the bucket's CORS rules. */
  setBucketCors(
    name: string,
    rules: readonly CorsRule[] | null,
    options?: WriteOptions,
  ): Promise<void> {
    return this.#writeBucket(
      name,
      () => {
        this.#requireBucket(name)
        this.#s.setBucketCors.run(rules === null ? null : JSON.stringify(rules.map(corsJson)), name)
      },
      options,
    )
  }

  /** The bucket's lifecycle configuration (table `bucket_lifecycle`), or null. */
  getBucketLifecycle(name: string): Promise<LifecycleConfiguration | null> {
    return this.#read(() => this.#lifecycles.get(name, () => this.#lifecycle.get(name)))
  }

  /** Sets or removes the bucket's lifecycle configuration. */
  setBucketLifecycle(
    name: string,
    config: LifecycleConfiguration | null,
    options?: WriteOptions,
  ): Promise<void> {
    return this.#writeBucket(
      name,
      () => {
        this.#requireBucket(name)
        this.#lifecycle.set(name, config)
      },
      options,
    )
  }

  /** A page of the buckets that have a lifecycle configuration. */
  listLifecycleBuckets(options: {
    readonly after: string
    readonly limit: number
  }): Promise<readonly string[]> {
    return this.#read(() => this.#lifecycle.buckets(options.after, options.limit))
  }

  /** A page of the bucket's objects under a prefix, as the lifecycle worker reads them. */
  scanLifecycleObjects(
    bucket: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
  ): Promise<readonly LifecycleObjectFacts[]> {
    return this.#read(() =>
      this.#lifecycle.scan(bucket, options.prefix, options.after, Math.max(1, options.limit)),
    )
  }

  /** Sets or removes the bucket policy document. */
  setBucketPolicy(name: string, policy: string | null, options?: WriteOptions): Promise<void> {
    return this.#setBucketColumn(this.#s.setBucketPolicy, name, policy, options)
  }

  /** Sets or resets the bucket's ACL. */
  setBucketAcl(name: string, acl: AccessControlList | null, options?: WriteOptions): Promise<void> {
    return this.#setBucketColumn(this.#s.setBucketAcl, name, aclJson(acl), options)
  }

  /** Sets or removes the bucket's Object Ownership setting. */
  setBucketOwnership(
    name: string,
    ownership: ObjectOwnership | null,
    options?: WriteOptions,
  ): Promise<void> {
    return this.#setBucketColumn(this.#s.setBucketOwnership, name, ownership, options)
  }

  /** Sets or removes the bucket's PublicAccessBlock. */
  setBucketPublicAccessBlock(
    name: string,
    block: PublicAccessBlock | null,
    options?: WriteOptions,
  ): Promise<void> {
    const json = block === null ? null : JSON.stringify(publicAccessBlockJson(block))
    return this.#setBucketColumn(this.#s.setBucketPublicAccessBlock, name, json, options)
  }

  /** Sets the bucket's Object Lock configuration. */
  setBucketObjectLock(
    name: string,
    config: ObjectLockConfiguration,
    options?: WriteOptions,
  ): Promise<void> {
    const json = JSON.stringify(objectLockJson(config))
    return this.#setBucketColumn(this.#s.setBucketObjectLock, name, json, options)
  }

  /**
   * A write that changes bucket `name`'s row or settings. Only these writes touch the `buckets`
   * and `bucket_lifecycle` tables, and this process is their only writer, so forgetting the
   * bucket here, inside the transaction, keeps the read caches exact: the next read after the
   * write reads the table again. A batch that fails as a whole forgets everything (`#flush`):
   * a later write of the same batch may have cached what the rolled-back one left.
   */
  #writeBucket<T>(name: string, change: () => T, options?: WriteOptions): Promise<T> {
    return this.#write(() => {
      try {
        return change()
      } finally {
        // After the change: it may have read the bucket (`#requireBucket`) before changing it.
        this.#buckets.forget(name)
        this.#lifecycles.forget(name)
      }
    }, options)
  }

  #setBucketColumn(
    statement: Database.Statement<[string | null, string]>,
    name: string,
    value: string | null,
    options: WriteOptions | undefined,
  ): Promise<void> {
    return this.#writeBucket(
      name,
      () => {
        this.#requireBucket(name)
        statement.run(value, name)
      },
      options,
    )
  }

  /** Removes an empty bucket and its uploads; returns the uploads' part blobs. */
  deleteBucket(name: string, options?: WriteOptions): Promise<Orphans> {
    return this.#writeBucket(
      name,
      () => {
        this.#requireBucket(name)
        if (
          this.#s.hasObjects.get(name) !== undefined ||
          this.#s.hasVersions.get(name) !== undefined
        )
          throw MetaErrors.bucketNotEmpty(name)
        const orphaned: BlobPart[] = []
        for (const upload of this.#s.uploadIdsOfBucket.all(name)) {
          this.#dropUpload(upload.upload_id, orphaned)
        }
        this.#s.deleteBucket.run(name)
        return { orphaned }
      },
      options,
    )
  }

  // ── objects ──────────────────────────────────────────────────────────────────

  /** The current (or named) version's record, null for none or a delete marker. */
  getObject(
    bucket: string,
    key: string,
    options: { withData?: boolean } & VersionSelector = {},
  ): Promise<ObjectRecord | null> {
    return this.#read(() => {
      if (options.versionId === undefined) {
        const row =
          options.withData === true
            ? this.#s.getObjectWithData.get(bucket, key)
            : this.#s.getObject.get(bucket, key)
        return row === undefined ? null : toObjectRecord(row)
      }
      const found = this.#lookup(bucket, key, options)
      return found?.kind === 'object' ? found.record : null
    })
  }

  /** The current (or named) version, delete markers included. */
  getVersion(
    bucket: string,
    key: string,
    options: { withData?: boolean } & VersionSelector = {},
  ): Promise<VersionLookup | null> {
    return this.#read(() => this.#lookup(bucket, key, options))
  }

  /** Inserts or replaces an object, checking `condition` in the same transaction. */
  putObject(
    record: ObjectRecord,
    condition?: WriteCondition,
    options?: WriteOptions,
  ): Promise<Orphans> {
    return this.#write(() => {
      this.#requireBucket(record.bucket)
      const orphaned: BlobPart[] = []
      this.#replaceObject(record, condition, orphaned)
      return { orphaned }
    }, options)
  }

  /** Removes a version for good or writes a delete marker; see `DeleteObjectOptions`. */
  deleteObject(
    bucket: string,
    key: string,
    options: DeleteObjectOptions = {},
  ): Promise<DeleteObjectResult> {
    const { events, versionId, marker } = options
    const lock: LockOptions = {
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.bypassGovernance === undefined
        ? {}
        : { bypassGovernance: options.bypassGovernance }),
    }
    return this.#write(
      () => {
        this.#requireBucket(bucket)
        const expect = options.expect
        if (expect !== undefined) {
          const current = this.#s.getObjectStamp.get(bucket, key)
          if (current === undefined) throw MetaErrors.preconditionFailed(bucket, key, 'missing')
          if (current.etag !== expect.etag || current.last_modified !== expect.lastModified) {
            throw MetaErrors.preconditionFailed(bucket, key, 'etag-mismatch')
          }
        }
        const orphaned: BlobPart[] = []
        if (marker !== undefined) {
          this.#writeMarker(bucket, key, marker, orphaned)
          return { deleted: true, versionId: marker.versionId, deleteMarker: true, orphaned }
        }
        let target: string | null
        if (versionId === undefined) {
          const current = this.#s.getCurrentRef.get(bucket, key)
          if (current === undefined) {
            return { deleted: false, versionId: null, deleteMarker: false, orphaned }
          }
          target = current.version_id
        } else {
          target = idOf(versionId)
        }
        const removed = this.#removeVersion(bucket, key, target, orphaned, lock)
        return {
          deleted: removed !== null,
          versionId: target,
          deleteMarker: removed === 'marker',
          orphaned,
        }
      },
      events === undefined ? undefined : { events },
    )
  }

  /** Replaces the tags of an existing object version in place. */
  setObjectTags(
    bucket: string,
    key: string,
    tags: readonly Tag[],
    options: WriteOptions & VersionSelector = {},
  ): Promise<void> {
    const { events, versionId } = options
    return this.#write(
      () => {
        this.#requireBucket(bucket)
        const json = tagsJson(tags)
        if (versionId === undefined) {
          const { changes } = this.#s.setObjectTags.run(json, bucket, key)
          if (changes === 0) throw MetaErrors.noSuchKey(bucket, key)
          return
        }
        const id = idOf(versionId)
        if (this.#s.setCurrentVersionTags.run(json, bucket, key, id).changes > 0) return
        if (this.#s.setVersionTags.run(json, bucket, key, id).changes > 0) return
        throw MetaErrors.noSuchVersion(bucket, key, versionId)
      },
      events === undefined ? undefined : { events },
    )
  }

  /** Sets or removes a version's retention, as the Object Lock rules allow. */
  setObjectRetention(
    bucket: string,
    key: string,
    retention: ObjectRetention | null,
    options: WriteOptions & VersionSelector & LockOptions = {},
  ): Promise<void> {
    return this.#write(
      () =>
        this.#setLock(bucket, key, options, (row) => {
          const why = retentionRefusal(row, retention, options)
          if (why !== null) {
            throw MetaErrors.objectLocked(bucket, key, options.versionId ?? 'current', why)
          }
          return {
            lock_mode: retention?.mode ?? null,
            lock_until: retention?.retainUntil ?? null,
            legal_hold: row.legal_hold,
          }
        }),
      options.events === undefined ? undefined : { events: options.events },
    )
  }

  /** Turns a version's legal hold on or off. */
  setObjectLegalHold(
    bucket: string,
    key: string,
    on: boolean,
    options: WriteOptions & VersionSelector = {},
  ): Promise<void> {
    return this.#write(
      () =>
        this.#setLock(bucket, key, options, (row) => ({ ...row, legal_hold: legalHoldColumn(on) })),
      options.events === undefined ? undefined : { events: options.events },
    )
  }

  /** Rewrites the lock columns of the current (or named) version, wherever it is. */
  #setLock(
    bucket: string,
    key: string,
    options: VersionSelector,
    change: (row: LockColumns) => LockColumns,
  ): void {
    this.#requireBucket(bucket)
    const current = this.#s.getCurrentRef.get(bucket, key)
    const id = options.versionId === undefined ? undefined : idOf(options.versionId)
    if (current !== undefined && (id === undefined || current.version_id === id)) {
      const next = change(current)
      this.#s.setCurrentLock.run(
        next.lock_mode,
        next.lock_until,
        next.legal_hold,
        bucket,
        key,
        current.version_id,
      )
      return
    }
    if (id === undefined || options.versionId === undefined) throw MetaErrors.noSuchKey(bucket, key)
    const row = this.#s.findVersion.get(bucket, key, id)
    if (row === undefined || row.delete_marker === 1) {
      throw MetaErrors.noSuchVersion(bucket, key, options.versionId)
    }
    const next = change(row)
    this.#s.setVersionLock.run(
      next.lock_mode,
      next.lock_until,
      next.legal_hold,
      bucket,
      key,
      row.seq,
    )
  }

  /** Replaces the ACL of an existing object in place; `NoSuchKey` if there is none. */
  setObjectAcl(
    bucket: string,
    key: string,
    acl: AccessControlList | null,
    options?: WriteOptions,
  ): Promise<void> {
    return this.#write(() => {
      this.#requireBucket(bucket)
      const { changes } = this.#s.setObjectAcl.run(aclJson(acl), bucket, key)
      if (changes === 0) throw MetaErrors.noSuchKey(bucket, key)
    }, options)
  }

  /** Lists keys and common prefixes in UTF-8 byte order; see the README for the seek. */
  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsResult> {
    return this.#read(() => {
      this.#requireBucket(bucket)
      const { prefix, maxKeys } = options
      const delimiter = options.delimiter === '' ? null : options.delimiter
      const objects: ObjectSummary[] = []
      const commonPrefixes: string[] = []
      let lastReturned: string | null = null
      let isTruncated = false

      let from: Cursor | null = { key: prefix, inclusive: true }
      if (options.after !== null && compareBytes(options.after, prefix) >= 0) {
        from = isCommonPrefix(options.after, prefix, delimiter)
          ? seekPast(options.after)
          : { key: options.after, inclusive: false }
      }
      scan: while (from !== null) {
        const stmt = from.inclusive ? this.#s.listFrom : this.#s.listAfter
        // One bounded query per run of keys (all() is far cheaper per row than iterate()): at most
        // one row more than the page still needs, so a full page is known to be truncated.
        const limit = maxKeys - objects.length - commonPrefixes.length + 1
        let next: Cursor | null = null
        for (const row of stmt.all(bucket, from.key, limit)) {
          const key = row[0]
          if (!key.startsWith(prefix)) break scan
          if (objects.length + commonPrefixes.length >= maxKeys) {
            isTruncated = true
            break scan
          }
          const cp = commonPrefixOf(key, prefix, delimiter)
          if (cp !== null) {
            commonPrefixes.push(cp)
            lastReturned = cp
            // Jump over every key under the common prefix with one index seek.
            next = seekPast(cp)
            break
          }
          objects.push(toSummary(row))
          lastReturned = key
        }
        from = next
      }
      return { objects, commonPrefixes, isTruncated, lastReturned }
    })
  }

  /** Whether the bucket holds at least one current object. */
  hasObjects(bucket: string): Promise<boolean> {
    return this.#read(() => this.#s.hasObjects.get(bucket) !== undefined)
  }

  /**
   * Every version and delete marker by key, newest first within a key: the current rows of
   * `objects` merged with `object_versions` (each walked in index order; a key's `objects` row
   * has its largest seq, so it comes first). Common prefixes skip their keys with one seek.
   */
  listObjectVersions(bucket: string, options: ListVersionsOptions): Promise<ListVersionsResult> {
    return this.#read(() => {
      this.#requireBucket(bucket)
      const { prefix, maxKeys, keyMarker } = options
      const delimiter = options.delimiter === '' ? null : options.delimiter
      const versions: VersionSummary[] = []
      const commonPrefixes: string[] = []
      let nextKeyMarker: string | null = null
      let nextVersionIdMarker: string | null = null
      let isTruncated = false
      let previousKey: string | null = null

      /** Takes one row; returns where to seek next, 'stop', or 'next'. */
      const take = (row: VersionListRow): Cursor | 'stop' | 'next' => {
        if (!row.key.startsWith(prefix)) return 'stop'
        if (versions.length + commonPrefixes.length >= maxKeys) {
          isTruncated = true
          return 'stop'
        }
        const cp = commonPrefixOf(row.key, prefix, delimiter)
        if (cp !== null) {
          commonPrefixes.push(cp)
          nextKeyMarker = cp
          nextVersionIdMarker = null
          return seekPast(cp) ?? 'stop'
        }
        versions.push(toVersionSummary(row, row.key !== previousKey))
        previousKey = row.key
        nextKeyMarker = row.key
        nextVersionIdMarker = row.version_id ?? 'null'
        return 'next'
      }

      let from: Cursor | null = { key: prefix, inclusive: true }
      if (keyMarker !== null && compareBytes(keyMarker, prefix) >= 0) {
        from = { key: keyMarker, inclusive: false }
        if (isCommonPrefix(keyMarker, prefix, delimiter)) {
          from = seekPast(keyMarker)
        } else if (options.versionIdMarker !== null) {
          // The marker key's versions older than the marker version, then the keys after it.
          const marker = this.#versionSeqOf(bucket, keyMarker, idOf(options.versionIdMarker))
          if (marker !== undefined) {
            previousKey = keyMarker
            for (const row of this.#s.versionsOfKeyBefore.all(bucket, keyMarker, marker)) {
              if (take(row) === 'stop') return result()
            }
          }
        }
      }
      scanRuns(from, (at) => this.#mergedVersions(bucket, at), take)
      return result()

      function result(): ListVersionsResult {
        return { versions, commonPrefixes, isTruncated, nextKeyMarker, nextVersionIdMarker }
      }
    })
  }

  /** Rows of `objects` and `object_versions` from `from`, by key then newest first. */
  *#mergedVersions(bucket: string, from: Cursor): Generator<VersionListRow> {
    const current = (from.inclusive ? this.#s.listCurrentFrom : this.#s.listCurrentAfter).iterate(
      bucket,
      from.key,
    )
    const older = (from.inclusive ? this.#s.listVersionsFrom : this.#s.listVersionsAfter).iterate(
      bucket,
      from.key,
    )
    try {
      let a = current.next()
      let b = older.next()
      while (a.done !== true || b.done !== true) {
        if (b.done === true || (a.done !== true && compareBytes(a.value.key, b.value.key) <= 0)) {
          yield a.value as VersionListRow
          a = current.next()
        } else {
          yield b.value
          b = older.next()
        }
      }
    } finally {
      current.return?.()
      older.return?.()
    }
  }

  // ── multipart uploads ────────────────────────────────────────────────────────

  /** Records a new upload; `NoSuchBucket` if the bucket is gone. */
  createMultipartUpload(upload: MultipartUploadRecord): Promise<void> {
    return this.#write(() => {
      this.#requireBucket(upload.bucket)
      this.#s.insertUpload.run(
        upload.uploadId,
        upload.bucket,
        upload.key,
        upload.initiated,
        upload.tenantId,
        JSON.stringify(upload.headers),
        JSON.stringify(upload.userMetadata),
        upload.checksumAlgorithm,
        upload.checksumType,
        encryptionJson(upload.encryption),
        tagsJson(upload.tags ?? []),
        aclJson(upload.acl ?? null),
        upload.objectLock === undefined ? null : JSON.stringify(upload.objectLock),
      )
    })
  }

  /** The upload if it exists in this bucket, else null. */
  getMultipartUpload(bucket: string, uploadId: string): Promise<MultipartUploadRecord | null> {
    return this.#read(() => {
      const row = this.#s.getUpload.get(uploadId)
      return row === undefined || row.bucket !== bucket ? null : toUploadRecord(row)
    })
  }

  /** Records a part, replacing one of the same number; `NoSuchUpload` if the upload is gone. */
  putPart(part: PartRecord): Promise<Orphans> {
    return this.#write(() => {
      if (this.#s.getUpload.get(part.uploadId) === undefined) {
        throw MetaErrors.noSuchUpload(part.uploadId)
      }
      const orphaned: BlobPart[] = []
      this.#hold([part.blob])
      const old = this.#s.getPart.get(part.uploadId, part.partNumber)
      this.#s.upsertPart.run(
        part.uploadId,
        part.partNumber,
        part.size,
        part.etag,
        part.lastModified,
        JSON.stringify(part.checksums),
        part.blob.ref,
        part.blob.size,
        part.blob.wrappedKey ?? null,
      )
      if (old !== undefined) this.#release([{ ref: old.blob_ref, size: old.blob_size }], orphaned)
      return { orphaned }
    })
  }

  /** A page of parts after part number `after`. */
  listParts(
    uploadId: string,
    options: { readonly after: number; readonly maxParts: number },
  ): Promise<{ readonly parts: readonly PartRecord[]; readonly isTruncated: boolean }> {
    return this.#read(() => {
      if (this.#s.getUpload.get(uploadId) === undefined) throw MetaErrors.noSuchUpload(uploadId)
      const maxParts = Math.max(0, Math.trunc(options.maxParts))
      const rows = this.#s.listParts.all(uploadId, options.after, maxParts + 1)
      return {
        parts: rows.slice(0, maxParts).map(toPartRecord),
        isTruncated: rows.length > maxParts,
      }
    })
  }

  /** Every part of the upload in part-number order. */
  allParts(uploadId: string): Promise<readonly PartRecord[]> {
    return this.#read(() => {
      if (this.#s.getUpload.get(uploadId) === undefined) throw MetaErrors.noSuchUpload(uploadId)
      return this.#s.allParts.all(uploadId).map(toPartRecord)
    })
  }

  /** Atomically removes the upload and its parts and writes `record`. */
  completeMultipartUpload(
    uploadId: string,
    record: ObjectRecord,
    condition?: WriteCondition,
    options?: WriteOptions,
  ): Promise<Orphans> {
    return this.#write(() => {
      const upload = this.#s.getUpload.get(uploadId)
      if (upload === undefined || upload.bucket !== record.bucket || upload.key !== record.key) {
        throw MetaErrors.noSuchUpload(uploadId)
      }
      this.#requireBucket(record.bucket)
      const orphaned: BlobPart[] = []
      // Write the object first, so blobs moving from parts to the object keep a holder.
      this.#replaceObject(record, condition, orphaned)
      this.#dropUpload(uploadId, orphaned)
      return { orphaned }
    }, options)
  }

  /** Removes the upload and its parts; `NoSuchUpload` if it is not in this bucket. */
  abortMultipartUpload(bucket: string, uploadId: string): Promise<Orphans> {
    return this.#write(() => {
      const upload = this.#s.getUpload.get(uploadId)
      if (upload === undefined || upload.bucket !== bucket) throw MetaErrors.noSuchUpload(uploadId)
      const orphaned: BlobPart[] = []
      this.#dropUpload(uploadId, orphaned)
      return { orphaned }
    })
  }

  /** Lists uploads by key, then initiation time and id, with S3's marker semantics. */
  listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsResult> {
    return this.#read(() => {
      this.#requireBucket(bucket)
      const { prefix, keyMarker, uploadIdMarker } = options
      const delimiter = options.delimiter === '' ? null : options.delimiter
      const uploads: MultipartUploadRecord[] = []
      const commonPrefixes: string[] = []
      let nextKeyMarker: string | null = null
      let nextUploadIdMarker: string | null = null
      let isTruncated = false

      /** Takes one upload row; returns the cursor to seek to, 'stop', or 'next'. */
      const take = (row: UploadRow): Cursor | 'stop' | 'next' => {
        if (!row.key.startsWith(prefix)) return 'stop'
        if (uploads.length + commonPrefixes.length >= options.maxUploads) {
          isTruncated = true
          return 'stop'
        }
        const cp = commonPrefixOf(row.key, prefix, delimiter)
        if (cp !== null) {
          commonPrefixes.push(cp)
          nextKeyMarker = cp
          nextUploadIdMarker = null
          return seekPast(cp) ?? 'stop'
        }
        uploads.push(toUploadRecord(row))
        nextKeyMarker = row.key
        nextUploadIdMarker = row.upload_id
        return 'next'
      }

      let from: Cursor | null = { key: prefix, inclusive: true }
      if (keyMarker !== null && compareBytes(keyMarker, prefix) >= 0) {
        from = { key: keyMarker, inclusive: false }
        if (isCommonPrefix(keyMarker, prefix, delimiter)) {
          from = seekPast(keyMarker)
        } else if (uploadIdMarker !== null) {
          // Uploads of the marker key that come after the marker upload.
          const marker = this.#s.getUpload.get(uploadIdMarker)
          const rest =
            marker !== undefined && marker.bucket === bucket && marker.key === keyMarker
              ? this.#s.uploadsOfKeyAfter.all(bucket, keyMarker, marker.initiated, marker.upload_id)
              : this.#s.uploadsOfKeyAfterId.all(bucket, keyMarker, uploadIdMarker)
          for (const row of rest) {
            const r = take(row)
            if (r === 'stop') return result()
            if (r !== 'next') {
              from = r
              break
            }
          }
        }
      }
      scanRuns(
        from,
        (at) => (at.inclusive ? this.#s.uploadsFrom : this.#s.uploadsAfter).iterate(bucket, at.key),
        take,
      )
      return result()

      function result(): ListUploadsResult {
        return { uploads, commonPrefixes, isTruncated, nextKeyMarker, nextUploadIdMarker }
      }
    })
  }

  // ── wrapped data keys (key rotation) ─────────────────────────────────────────

  /** Objects by key, then open uploads' parts by (upload id, part number); see the interface. */
  listWrappedKeys(
    bucket: string,
    options: { readonly after: WrappedKeyCursor | null; readonly limit: number },
  ): Promise<WrappedKeyPage> {
    return this.#read(() => {
      this.#requireBucket(bucket)
      const limit = Math.max(1, Math.trunc(options.limit))
      const after = options.after
      const keys: StoredWrappedKey[] = []
      if (after === null || after.area === 'objects') {
        const rows =
          after === null
            ? this.#s.wrappedKeysFrom.all(bucket, '', limit)
            : this.#s.wrappedKeysAfter.all(bucket, after.key, limit)
        for (const row of rows) {
          if (row.blob_parts === null) {
            if (row.inline_key !== null) {
              keys.push({ location: { kind: 'inline', key: row.key }, wrappedKey: row.inline_key })
            }
            continue
          }
          blobPartsOf(row.blob_parts).forEach((part, index) => {
            if (part.wrappedKey === undefined) return
            keys.push({
              location: { kind: 'piece', key: row.key, index, ref: part.ref },
              wrappedKey: part.wrappedKey,
            })
          })
        }
        const last = rows.at(-1)
        return {
          keys,
          next:
            rows.length < limit || last === undefined
              ? { area: 'versions', key: '', seq: -1 }
              : { area: 'objects', key: last.key },
        }
      }
      if (after.area === 'versions') {
        // Noncurrent versions (delete markers hold no key): rotation re-wraps them too.
        const rows = this.#s.wrappedVersionKeysAfter.all(bucket, after.key, after.seq, limit)
        for (const row of rows) {
          const versionId = row.version_id
          if (row.blob_parts === null) {
            if (row.inline_key !== null) {
              keys.push({
                location: { kind: 'inline', key: row.key, versionId },
                wrappedKey: row.inline_key,
              })
            }
            continue
          }
          blobPartsOf(row.blob_parts).forEach((part, index) => {
            if (part.wrappedKey === undefined) return
            keys.push({
              location: { kind: 'piece', key: row.key, index, ref: part.ref, versionId },
              wrappedKey: part.wrappedKey,
            })
          })
        }
        const last = rows.at(-1)
        return {
          keys,
          next:
            rows.length < limit || last === undefined
              ? { area: 'parts', uploadId: '', partNumber: 0 }
              : { area: 'versions', key: last.key, seq: last.seq },
        }
      }
      const rows = this.#s.wrappedPartKeysAfter.all(bucket, after.uploadId, after.partNumber, limit)
      for (const row of rows) {
        if (row.wrapped_key === null) continue
        keys.push({
          location: {
            kind: 'part',
            key: row.key,
            uploadId: row.upload_id,
            partNumber: row.part_number,
            ref: row.blob_ref,
          },
          wrappedKey: row.wrapped_key,
        })
      }
      const last = rows.at(-1)
      return {
        keys,
        next:
          rows.length < limit || last === undefined
            ? null
            : { area: 'parts', uploadId: last.upload_id, partNumber: last.part_number },
      }
    })
  }

  /** Replaces one wrapped key if it is still the one read (one transaction). */
  replaceWrappedKey(
    bucket: string,
    stored: StoredWrappedKey,
    replacement: string,
  ): Promise<boolean> {
    return this.#write(() => {
      const { location, wrappedKey: expected } = stored
      switch (location.kind) {
        case 'inline':
          // The version may have moved between `objects` and `object_versions` since it was
          // listed; its wrapped key (fresh per version) finds it in either.
          return (
            this.#s.swapInlineKey.run(replacement, bucket, location.key, expected).changes === 1 ||
            this.#s.swapVersionInlineKey.run(replacement, bucket, location.key, expected)
              .changes === 1
          )
        case 'part':
          return (
            this.#s.swapPartKey.run(
              replacement,
              location.uploadId,
              location.partNumber,
              location.ref,
              expected,
              bucket,
              location.key,
            ).changes === 1
          )
        case 'piece': {
          const swap = (parts: BlobPart[]): string | null => {
            const part = parts[location.index]
            if (part?.ref !== location.ref || part.wrappedKey !== expected) return null
            parts[location.index] = { ...part, wrappedKey: replacement }
            return JSON.stringify(parts.map(blobPartJson))
          }
          const row = this.#s.getCurrentRef.get(bucket, location.key)
          if (row !== undefined && row.blob_parts !== null) {
            const json = swap(blobPartsOf(row.blob_parts))
            if (json !== null) {
              this.#s.setBlobParts.run(json, bucket, location.key)
              return true
            }
          }
          for (const version of this.#s.versionPiecesOfKey.all(bucket, location.key)) {
            const json = swap(blobPartsOf(version.blob_parts))
            if (json !== null) {
              this.#s.setVersionBlobParts.run(json, bucket, location.key, version.seq)
              return true
            }
          }
          return false
        }
      }
    })
  }

  // ── blobs and lifecycle ──────────────────────────────────────────────────────

  /** Whether an object or part references the blob (one index lookup). */
  isBlobReferenced(ref: string): Promise<boolean> {
    return this.#read(() => this.#s.getBlobRef.get(ref) !== undefined)
  }

  /** Commits queued writes, then closes the database; later calls fail with `StoreClosed`. */
  // ── ledger outbox ────────────────────────────────────────────────────────────

  readLedgerOutbox(limit: number): Promise<LedgerOutboxEntry[]> {
    return this.#read(() =>
      this.#s.readOutbox
        .all(this.#durableOutboxSeq, limit)
        .map((row) => ({ seq: row.seq, entry: new Uint8Array(row.entry) })),
    )
  }

  /**
   * Deletes acknowledged entries at once, outside the batch: SQLite's own commit (no fsync at
   * synchronous=NORMAL) is enough, since an ack lost in a crash only makes the drain compare
   * those entries with the log's tail at the next start.
   */
  ackLedgerOutbox(throughSeq: number): Promise<void> {
    return this.#read(() => {
      const { changes } = this.#s.ackOutbox.run(throughSeq)
      this.#outboxSize = Math.max(0, this.#outboxSize - changes)
    })
  }

  ledgerOutboxSize(): number {
    return this.#outboxSize
  }

  // ── transfer progress (the gate's, in the destination cell) ──────────────────

  transferObject(transferId: string, key: string): Promise<TransferObjectProgress | null> {
    return this.#read(() => this.#transfers.get(transferId, key))
  }

  recordTransferObject(
    transferId: string,
    object: TransferObjectProgress,
  ): Promise<TransferCounts> {
    return this.#write(() => this.#transfers.record(transferId, object))
  }

  listTransferObjects(
    transferId: string,
    options: { state: TransferObjectProgress['state']; after: string; limit: number },
  ): Promise<TransferObjectProgress[]> {
    return this.#read(() =>
      this.#transfers.list(transferId, options.state, options.after, options.limit),
    )
  }

  transferCounts(transferId: string): Promise<TransferCounts> {
    return this.#read(() => this.#transfers.counts(transferId))
  }

  forgetTransfer(transferId: string): Promise<void> {
    return this.#write(() => this.#transfers.forget(transferId))
  }

  onLedgerOutbox(listener: () => void): void {
    this.#onOutbox = listener
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    while (this.#queue.length > 0) this.#flush()
    await Promise.allSettled([...this.#syncing])
    const wal = await this.#wal?.catch(() => undefined)
    await wal?.close()
    this.#db.close()
  }

  /** The WAL file, opened once: fdatasync on it makes every committed frame durable. */
  #walHandle(): Promise<FileHandle> {
    this.#wal ??= open(`${this.#config.path}-wal`, 'r')
    return this.#wal
  }

  // ── internals ────────────────────────────────────────────────────────────────

  #read<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(MetaErrors.storeClosed())
    try {
      return Promise.resolve(fn())
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #write<T>(change: () => T, options?: WriteOptions): Promise<T> {
    if (this.#closed) return Promise.reject(MetaErrors.storeClosed())
    const events = options?.events ?? []
    const run =
      events.length === 0
        ? change
        : () => {
            const value = change()
            for (const entry of events) {
              this.#lastOutboxSeq = Number(this.#s.insertOutbox.run(entry).lastInsertRowid)
            }
            return value
          }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        events: events.length,
        resolve: resolve as (value: unknown) => void,
        reject,
      })
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  /** Commits up to `maxBatch` queued ops in one transaction (one fsync), then settles them. */
  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#queue.splice(0, this.#maxBatch)
    if (this.#queue.length > 0 && !this.#closed) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
    if (batch.length === 0) return
    const results: BatchResult[] = []
    try {
      this.#runBatch.immediate(batch, results)
    } catch (err) {
      // The commit (or the transaction as a whole) failed: nothing in the batch is durable,
      // and its outbox row ids may be reused; fall back to the last bound known durable.
      this.#lastOutboxSeq = this.#durableOutboxSeq
      this.#buckets.clear()
      this.#lifecycles.clear()
      for (const op of batch) op.reject(err)
      return
    }
    const batchOutboxSeq = this.#lastOutboxSeq
    const settle = (syncError?: unknown) => {
      if (syncError === undefined) {
        this.#durableOutboxSeq = Math.max(this.#durableOutboxSeq, batchOutboxSeq)
        let events = 0
        batch.forEach((op, i) => {
          if (results[i]?.ok === true) events += op.events
        })
        if (events > 0) {
          this.#outboxSize += events
          this.#onOutbox?.()
        }
      }
      batch.forEach((op, i) => {
        const r = results[i]
        if (syncError !== undefined) op.reject(syncError)
        else if (r?.ok === true) op.resolve(r.value)
        else op.reject(r === undefined ? new Error('Cannot settle write: it did not run') : r.err)
      })
    }
    // Durable before acknowledged: fdatasync the WAL (off the event loop), then settle.
    const sync = this.#walHandle()
      .then((wal) => wal.datasync())
      .then(
        () => settle(),
        (err: unknown) => settle(err),
      )
    this.#syncing.add(sync)
    void sync.finally(() => this.#syncing.delete(sync))
  }

  #requireBucket(bucket: string): void {
    if (this.#buckets.get(bucket, () => this.#loadBucket(bucket)) === null) {
      throw MetaErrors.noSuchBucket(bucket)
    }
  }

  /**
   * Writes `record` as the current version: the version with its id (wherever it is) is
   * replaced, a current version with another id moves to `object_versions`.
   */
  #replaceObject(
    record: ObjectRecord,
    condition: WriteCondition | undefined,
    orphaned: BlobPart[],
  ) {
    const { bucket, key } = record
    const old = this.#s.getCurrentRef.get(bucket, key)
    if (condition !== undefined) {
      const failed = conditionFailure(old?.etag, condition)
      if (failed !== null) throw MetaErrors.preconditionFailed(bucket, key, failed)
    }
    const data = record.data
    const blobParts = data.kind === 'blobs' ? data.parts : []
    // Hold the new blobs before releasing any old one, so a shared blob is never orphaned.
    this.#hold(blobParts)
    // Replacing a version (the null version of a suspended bucket) removes it: locks apply.
    const lock = { now: record.lastModified }
    let replaced: CurrentRef | undefined
    if (old !== undefined) {
      if (old.version_id === record.versionId) {
        checkUnlocked(bucket, key, record.versionId, old, lock)
        replaced = old
      } else this.#demoteCurrent(bucket, key)
    }
    const same = this.#s.findVersion.get(bucket, key, record.versionId)
    if (same !== undefined) {
      checkUnlocked(bucket, key, record.versionId, same, lock)
      this.#s.deleteVersionRow.run(bucket, key, same.seq)
      this.#release(blobPartsOf(same.blob_parts), orphaned)
    }
    this.#s.upsertObject.run(
      bucket,
      key,
      record.versionId,
      record.size,
      record.etag,
      record.lastModified,
      JSON.stringify(record.checksums),
      record.checksumType,
      JSON.stringify(record.headers),
      JSON.stringify(record.userMetadata),
      record.partsCount,
      record.partSizes === null ? null : JSON.stringify(record.partSizes),
      data.kind === 'blobs' ? JSON.stringify(data.parts.map(blobPartJson)) : null,
      encryptionJson(record.encryption),
      tagsJson(record.tags ?? []),
      partChecksumsJson(record.partChecksums),
      aclJson(record.acl ?? null),
      record.retention?.mode ?? null,
      record.retention?.retainUntil ?? null,
      legalHoldColumn(record.legalHold),
      null,
      ++this.#versionSeq,
    )
    // Inline bytes live in object_data, so listings scan narrow rows.
    if (data.kind === 'inline')
      this.#s.putObjectData.run(bucket, key, data.bytes, data.wrappedKey ?? null)
    else this.#s.deleteObjectData.run(bucket, key)
    if (replaced !== undefined) this.#release(blobPartsOf(replaced.blob_parts), orphaned)
  }

  /** Moves the key's current version (if any) to `object_versions`, with its inline bytes. */
  #demoteCurrent(bucket: string, key: string): void {
    if (this.#s.demoteCurrent.run(bucket, key).changes === 0) return
    this.#s.deleteObjectRow.run(bucket, key)
    this.#s.deleteObjectData.run(bucket, key)
  }

  /** Makes the newest remaining version current when it is an object (not a delete marker). */
  #promoteNewest(bucket: string, key: string): void {
    if (this.#s.getCurrentRef.get(bucket, key) !== undefined) return
    const newest = this.#s.newestVersion.get(bucket, key)
    if (newest === undefined || newest.delete_marker === 1) return
    this.#s.promoteVersion.run(bucket, key, newest.seq)
    this.#s.promoteVersionData.run(bucket, key, newest.seq)
    this.#s.deleteVersionRow.run(bucket, key, newest.seq)
  }

  /** Writes a delete marker as the current version, replacing the version of the same id. */
  #writeMarker(
    bucket: string,
    key: string,
    marker: { readonly versionId: string | null; readonly lastModified: number },
    orphaned: BlobPart[],
  ): void {
    const lock = { now: marker.lastModified }
    const current = this.#s.getCurrentRef.get(bucket, key)
    if (current !== undefined) {
      if (current.version_id === marker.versionId) {
        checkUnlocked(bucket, key, marker.versionId, current, lock)
        this.#s.deleteObjectRow.run(bucket, key)
        this.#s.deleteObjectData.run(bucket, key)
        this.#release(blobPartsOf(current.blob_parts), orphaned)
      } else {
        this.#demoteCurrent(bucket, key)
      }
    }
    const same = this.#s.findVersion.get(bucket, key, marker.versionId)
    if (same !== undefined) {
      checkUnlocked(bucket, key, marker.versionId, same, lock)
      this.#s.deleteVersionRow.run(bucket, key, same.seq)
      this.#release(blobPartsOf(same.blob_parts), orphaned)
    }
    this.#s.insertMarker.run(bucket, key, ++this.#versionSeq, marker.versionId, marker.lastModified)
  }

  /** Removes one version for good; returns what it was, or null when there was none. */
  #removeVersion(
    bucket: string,
    key: string,
    versionId: string | null,
    orphaned: BlobPart[],
    lock: LockOptions,
  ): 'object' | 'marker' | null {
    const current = this.#s.getCurrentRef.get(bucket, key)
    if (current !== undefined && current.version_id === versionId) {
      checkUnlocked(bucket, key, versionId, current, lock)
      this.#s.deleteObjectRow.run(bucket, key)
      this.#s.deleteObjectData.run(bucket, key)
      this.#release(blobPartsOf(current.blob_parts), orphaned)
      this.#promoteNewest(bucket, key)
      return 'object'
    }
    const row = this.#s.findVersion.get(bucket, key, versionId)
    if (row === undefined) return null
    checkUnlocked(bucket, key, versionId, row, lock)
    this.#s.deleteVersionRow.run(bucket, key, row.seq)
    this.#release(blobPartsOf(row.blob_parts), orphaned)
    this.#promoteNewest(bucket, key)
    return row.delete_marker === 1 ? 'marker' : 'object'
  }

  /** The current or named version, delete markers included. */
  #lookup(
    bucket: string,
    key: string,
    options: { withData?: boolean } & VersionSelector,
  ): VersionLookup | null {
    const withData = options.withData === true
    if (options.versionId === undefined) {
      const row = withData
        ? this.#s.getObjectWithData.get(bucket, key)
        : this.#s.getObject.get(bucket, key)
      if (row !== undefined) return { kind: 'object', record: toObjectRecord(row) }
      const newest = this.#s.newestVersion.get(bucket, key)
      if (newest === undefined || newest.delete_marker !== 1) return null
      const marker = this.#s.getVersionRow.get(bucket, key, newest.seq)
      return marker === undefined ? null : markerOf(marker, true)
    }
    const id = idOf(options.versionId)
    const current = withData
      ? this.#s.getObjectWithData.get(bucket, key)
      : this.#s.getObject.get(bucket, key)
    if (current !== undefined && current.version_id === id) {
      return { kind: 'object', record: toObjectRecord(current) }
    }
    const found = this.#s.findVersion.get(bucket, key, id)
    if (found === undefined) return null
    const row = this.#s.getVersionRow.get(bucket, key, found.seq)
    if (row === undefined) return null
    if (row.delete_marker === 1) {
      const newest = this.#s.newestVersion.get(bucket, key)
      return markerOf(row, current === undefined && newest?.seq === row.seq)
    }
    if (!withData) row.inline_data = null
    return { kind: 'object', record: toObjectRecord(row) }
  }

  /** The seq of a key's version (current or not), or undefined. */
  #versionSeqOf(bucket: string, key: string, versionId: string | null): number | undefined {
    const current = this.#s.getCurrentRef.get(bucket, key)
    if (current !== undefined && current.version_id === versionId) return current.seq
    return this.#s.findVersion.get(bucket, key, versionId)?.seq
  }

  #dropUpload(uploadId: string, orphaned: BlobPart[]): void {
    const parts = this.#s.deletePartsOfUpload.all(uploadId)
    this.#release(
      parts.map((p) => ({ ref: p.blob_ref, size: p.blob_size })),
      orphaned,
    )
    this.#s.deleteUpload.run(uploadId)
  }

  /** Adds one holder to each blob. */
  #hold(parts: readonly BlobPart[]): void {
    for (const p of parts) this.#s.holdBlob.run(p.ref, p.size)
  }

  /** Removes one holder from each blob; blobs left with none are appended to `orphaned`. */
  #release(parts: readonly BlobPart[], orphaned: BlobPart[]): void {
    for (const p of parts) {
      const left = this.#s.releaseBlob.get(p.ref)
      if (left !== undefined && left.holders <= 0) {
        this.#s.deleteBlobRef.run(p.ref)
        orphaned.push({ ref: p.ref, size: p.size })
      }
    }
  }
}

type Statements = ReturnType<typeof prepareStatements>

function prepareStatements(db: Database.Database) {
  return {
    insertBucket: db.prepare<
      [
        string,
        string,
        number,
        string | null,
        string | null,
        string | null,
        string | null,
        string | null,
        VersioningStatus | null,
      ]
    >(
      `INSERT INTO buckets (name, tenant_id, created_at, policy, acl, ownership,
         public_access_block, object_lock, versioning)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    getBucket: db.prepare<[string], BucketRow>('SELECT * FROM buckets WHERE name = ?'),
    insertOutbox: db.prepare<[Uint8Array]>('INSERT INTO ledger_outbox (entry) VALUES (?)'),
    readOutbox: db.prepare<[number, number], { seq: number; entry: Buffer }>(
      'SELECT seq, entry FROM ledger_outbox WHERE seq <= ? ORDER BY seq LIMIT ?',
    ),
    ackOutbox: db.prepare<[number]>('DELETE FROM ledger_outbox WHERE seq <= ?'),
    countOutbox: db.prepare<[], { count: number; last: number | null }>(
      'SELECT count(*) AS count, max(seq) AS last FROM ledger_outbox',
    ),
    setBucketEncryption: db.prepare<[string | null, string]>(
      'UPDATE buckets SET encryption = ? WHERE name = ?',
    ),
    setBucketTags: db.prepare<[string | null, string]>(
      'UPDATE buckets SET tags = ? WHERE name = ?',
    ),
    setBucketCors: db.prepare<[string | null, string]>(
      'UPDATE buckets SET cors = ? WHERE name = ?',
    ),
    setBucketPolicy: db.prepare<[string | null, string]>(
      'UPDATE buckets SET policy = ? WHERE name = ?',
    ),
    setBucketAcl: db.prepare<[string | null, string]>('UPDATE buckets SET acl = ? WHERE name = ?'),
    setBucketOwnership: db.prepare<[string | null, string]>(
      'UPDATE buckets SET ownership = ? WHERE name = ?',
    ),
    setBucketPublicAccessBlock: db.prepare<[string | null, string]>(
      'UPDATE buckets SET public_access_block = ? WHERE name = ?',
    ),
    setBucketObjectLock: db.prepare<[string | null, string]>(
      'UPDATE buckets SET object_lock = ? WHERE name = ?',
    ),
    setObjectAcl: db.prepare<[string | null, string, string]>(
      'UPDATE objects SET acl = ? WHERE bucket = ? AND key = ?',
    ),
    setObjectTags: db.prepare<[string | null, string, string]>(
      'UPDATE objects SET tags = ? WHERE bucket = ? AND key = ?',
    ),
    deleteBucket: db.prepare<[string]>('DELETE FROM buckets WHERE name = ?'),
    hasObjects: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM objects WHERE bucket = ? LIMIT 1',
    ),
    getObject: db.prepare<[string, string], ObjectRow>(
      `SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?`,
    ),
    getObjectWithData: db.prepare<[string, string], ObjectRow>(
      // The object's row and its inline bytes in one statement (see README: Inline bytes).
      `SELECT ${qualified('o', OBJECT_COLUMNS)}, d.bytes AS inline_data, d.wrapped_key AS inline_key
       FROM objects o LEFT JOIN object_data d ON d.bucket = o.bucket AND d.key = o.key
       WHERE o.bucket = ? AND o.key = ?`,
    ),
    putObjectData: db.prepare<[string, string, Buffer, string | null]>(
      'INSERT OR REPLACE INTO object_data (bucket, key, bytes, wrapped_key) VALUES (?, ?, ?, ?)',
    ),
    deleteObjectData: db.prepare<[string, string]>(
      'DELETE FROM object_data WHERE bucket = ? AND key = ?',
    ),
    getObjectStamp: db.prepare<[string, string], { etag: string; last_modified: number }>(
      'SELECT etag, last_modified FROM objects WHERE bucket = ? AND key = ?',
    ),
    getCurrentRef: db.prepare<[string, string], CurrentRef>(
      `SELECT etag, blob_parts, version_id, seq, ${LOCK_COLUMNS} FROM objects
       WHERE bucket = ? AND key = ?`,
    ),
    maxVersionSeq: db.prepare<[], { seq: number | null }>(
      `SELECT max(seq) AS seq FROM (SELECT max(seq) AS seq FROM objects
       UNION ALL SELECT max(seq) FROM object_versions)`,
    ),
    setBucketVersioning: db.prepare<[string, string]>(
      'UPDATE buckets SET versioning = ? WHERE name = ?',
    ),
    hasVersions: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM object_versions WHERE bucket = ? LIMIT 1',
    ),
    deleteObjectRow: db.prepare<[string, string]>(
      'DELETE FROM objects WHERE bucket = ? AND key = ?',
    ),
    findVersion: db.prepare<
      [string, string, string | null],
      LockColumns & { seq: number; delete_marker: number; blob_parts: string | null }
    >(
      `SELECT seq, delete_marker, blob_parts, ${LOCK_COLUMNS} FROM object_versions
       WHERE bucket = ? AND key = ? AND version_id IS ?`,
    ),
    setCurrentLock: db.prepare<
      [ObjectRetention['mode'] | null, number | null, number, string, string, string | null]
    >(
      `UPDATE objects SET lock_mode = ?, lock_until = ?, legal_hold = ?
       WHERE bucket = ? AND key = ? AND version_id IS ?`,
    ),
    setVersionLock: db.prepare<
      [ObjectRetention['mode'] | null, number | null, number, string, string, number]
    >(
      `UPDATE object_versions SET lock_mode = ?, lock_until = ?, legal_hold = ?
       WHERE bucket = ? AND key = ? AND seq = ?`,
    ),
    getVersionRow: db.prepare<[string, string, number], VersionRow>(
      `SELECT ${OBJECT_COLUMNS}, seq, delete_marker, inline_key, inline_data FROM object_versions
       WHERE bucket = ? AND key = ? AND seq = ?`,
    ),
    newestVersion: db.prepare<[string, string], { seq: number; delete_marker: number }>(
      `SELECT seq, delete_marker FROM object_versions WHERE bucket = ? AND key = ?
       ORDER BY seq DESC LIMIT 1`,
    ),
    deleteVersionRow: db.prepare<[string, string, number]>(
      'DELETE FROM object_versions WHERE bucket = ? AND key = ? AND seq = ?',
    ),
    demoteCurrent: db.prepare<[string, string]>(
      `INSERT INTO object_versions (${OBJECT_COLUMNS}, seq, delete_marker, inline_key, inline_data)
       SELECT o.bucket, o.key, o.version_id, o.size, o.etag, o.last_modified, o.checksums,
         o.checksum_type, o.headers, o.user_metadata, o.parts_count, o.part_sizes, o.blob_parts,
         o.encryption, o.tags, o.part_checksums, o.acl, o.lock_mode, o.lock_until, o.legal_hold,
         o.seq, 0, d.wrapped_key, d.bytes
       FROM objects o LEFT JOIN object_data d ON d.bucket = o.bucket AND d.key = o.key
       WHERE o.bucket = ? AND o.key = ?`,
    ),
    promoteVersion: db.prepare<[string, string, number]>(
      `INSERT INTO objects (${OBJECT_COLUMNS}, seq)
       SELECT ${OBJECT_COLUMNS}, seq FROM object_versions WHERE bucket = ? AND key = ? AND seq = ?`,
    ),
    promoteVersionData: db.prepare<[string, string, number]>(
      `INSERT OR REPLACE INTO object_data (bucket, key, bytes, wrapped_key)
       SELECT bucket, key, inline_data, inline_key FROM object_versions
       WHERE bucket = ? AND key = ? AND seq = ? AND blob_parts IS NULL AND inline_data IS NOT NULL`,
    ),
    insertMarker: db.prepare<[string, string, number, string | null, number]>(
      `INSERT INTO object_versions (bucket, key, seq, version_id, delete_marker, size, etag,
         last_modified, checksums, headers, user_metadata)
       VALUES (?, ?, ?, ?, 1, 0, '', ?, '{}', '{}', '{}')`,
    ),
    setCurrentVersionTags: db.prepare<[string | null, string, string, string | null]>(
      'UPDATE objects SET tags = ? WHERE bucket = ? AND key = ? AND version_id IS ?',
    ),
    setVersionTags: db.prepare<[string | null, string, string, string | null]>(
      `UPDATE object_versions SET tags = ? WHERE bucket = ? AND key = ? AND version_id IS ?
       AND delete_marker = 0`,
    ),
    listCurrentFrom: db.prepare<[string, string], Omit<VersionListRow, 'delete_marker'>>(
      `SELECT key, seq, version_id, 0 AS delete_marker, size, etag, last_modified, checksums
       FROM objects WHERE bucket = ? AND key >= ? ORDER BY key`,
    ),
    listCurrentAfter: db.prepare<[string, string], Omit<VersionListRow, 'delete_marker'>>(
      `SELECT key, seq, version_id, 0 AS delete_marker, size, etag, last_modified, checksums
       FROM objects WHERE bucket = ? AND key > ? ORDER BY key`,
    ),
    listVersionsFrom: db.prepare<[string, string], VersionListRow>(
      `SELECT ${VERSION_LIST_COLUMNS} FROM object_versions WHERE bucket = ? AND key >= ?
       ORDER BY key, seq DESC`,
    ),
    listVersionsAfter: db.prepare<[string, string], VersionListRow>(
      `SELECT ${VERSION_LIST_COLUMNS} FROM object_versions WHERE bucket = ? AND key > ?
       ORDER BY key, seq DESC`,
    ),
    versionsOfKeyBefore: db.prepare<[string, string, number], VersionListRow>(
      `SELECT ${VERSION_LIST_COLUMNS} FROM object_versions WHERE bucket = ? AND key = ? AND seq < ?
       ORDER BY seq DESC`,
    ),
    wrappedVersionKeysAfter: db.prepare<[string, string, number, number], VersionKeyRow>(
      `SELECT key, seq, version_id, blob_parts, inline_key FROM object_versions
       WHERE bucket = ? AND (key, seq) > (?, ?) AND delete_marker = 0 ORDER BY key, seq LIMIT ?`,
    ),
    swapVersionInlineKey: db.prepare<[string, string, string, string]>(
      `UPDATE object_versions SET inline_key = ? WHERE bucket = ? AND key = ? AND inline_key = ?
       AND blob_parts IS NULL`,
    ),
    versionPiecesOfKey: db.prepare<[string, string], { seq: number; blob_parts: string }>(
      `SELECT seq, blob_parts FROM object_versions WHERE bucket = ? AND key = ?
       AND blob_parts IS NOT NULL`,
    ),
    setVersionBlobParts: db.prepare<[string, string, string, number]>(
      'UPDATE object_versions SET blob_parts = ? WHERE bucket = ? AND key = ? AND seq = ?',
    ),
    upsertObject: db.prepare<
      [
        string,
        string,
        string | null,
        number,
        string,
        number,
        string,
        string | null,
        string,
        string,
        number | null,
        string | null,
        string | null,
        string | null,
        string | null,
        string | null,
        string | null,
        ObjectRetention['mode'] | null,
        number | null,
        number,
        Buffer | null,
        number,
      ]
    >(
      `INSERT OR REPLACE INTO objects (${OBJECT_COLUMNS}, inline_data, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    listFrom: db
      .prepare<[string, string, number], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`,
      )
      .raw(true),
    listAfter: db
      .prepare<[string, string, number], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?`,
      )
      .raw(true),
    insertUpload: db.prepare<
      [
        string,
        string,
        string,
        number,
        string,
        string,
        string,
        string | null,
        string | null,
        string | null,
        string | null,
        string | null,
        string | null,
      ]
    >(
      `INSERT INTO multipart_uploads (${UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getUpload: db.prepare<[string], UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE upload_id = ?`,
    ),
    deleteUpload: db.prepare<[string]>('DELETE FROM multipart_uploads WHERE upload_id = ?'),
    uploadIdsOfBucket: db.prepare<[string], { upload_id: string }>(
      'SELECT upload_id FROM multipart_uploads WHERE bucket = ?',
    ),
    uploadsFrom: db.prepare<[string, string], UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = ? AND key >= ?
       ORDER BY key, initiated, upload_id`,
    ),
    uploadsAfter: db.prepare<[string, string], UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = ? AND key > ?
       ORDER BY key, initiated, upload_id`,
    ),
    uploadsOfKeyAfter: db.prepare<[string, string, number, string], UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = ? AND key = ?
       AND (initiated, upload_id) > (?, ?) ORDER BY initiated, upload_id`,
    ),
    uploadsOfKeyAfterId: db.prepare<[string, string, string], UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = ? AND key = ?
       AND upload_id > ? ORDER BY initiated, upload_id`,
    ),
    getPart: db.prepare<[string, number], PartRow>(
      'SELECT * FROM parts WHERE upload_id = ? AND part_number = ?',
    ),
    upsertPart: db.prepare<
      [string, number, number, string, number, string, string, number, string | null]
    >(
      `INSERT OR REPLACE INTO parts
       (upload_id, part_number, size, etag, last_modified, checksums, blob_ref, blob_size, wrapped_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    listParts: db.prepare<[string, number, number], PartRow>(
      'SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?',
    ),
    allParts: db.prepare<[string], PartRow>(
      'SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number',
    ),
    deletePartsOfUpload: db.prepare<[string], PartRow>(
      'DELETE FROM parts WHERE upload_id = ? RETURNING *',
    ),
    wrappedKeysFrom: db.prepare<[string, string, number], WrappedKeyRow>(
      `SELECT o.key, o.blob_parts, d.wrapped_key AS inline_key FROM objects o
       LEFT JOIN object_data d ON d.bucket = o.bucket AND d.key = o.key
       WHERE o.bucket = ? AND o.key >= ? ORDER BY o.key LIMIT ?`,
    ),
    wrappedKeysAfter: db.prepare<[string, string, number], WrappedKeyRow>(
      `SELECT o.key, o.blob_parts, d.wrapped_key AS inline_key FROM objects o
       LEFT JOIN object_data d ON d.bucket = o.bucket AND d.key = o.key
       WHERE o.bucket = ? AND o.key > ? ORDER BY o.key LIMIT ?`,
    ),
    wrappedPartKeysAfter: db.prepare<
      [string, string, number, number],
      {
        upload_id: string
        part_number: number
        blob_ref: string
        wrapped_key: string | null
        key: string
      }
    >(
      `SELECT p.upload_id, p.part_number, p.blob_ref, p.wrapped_key, u.key FROM parts p
       JOIN multipart_uploads u ON u.upload_id = p.upload_id
       WHERE u.bucket = ? AND (p.upload_id, p.part_number) > (?, ?)
       ORDER BY p.upload_id, p.part_number LIMIT ?`,
    ),
    swapInlineKey: db.prepare<[string, string, string, string]>(
      `UPDATE object_data SET wrapped_key = ? WHERE bucket = ? AND key = ? AND wrapped_key = ?
       AND EXISTS (SELECT 1 FROM objects o WHERE o.bucket = object_data.bucket
                   AND o.key = object_data.key AND o.blob_parts IS NULL)`,
    ),
    swapPartKey: db.prepare<[string, string, number, string, string, string, string]>(
      `UPDATE parts SET wrapped_key = ?
       WHERE upload_id = ? AND part_number = ? AND blob_ref = ? AND wrapped_key = ?
       AND upload_id IN (SELECT upload_id FROM multipart_uploads WHERE bucket = ? AND key = ?)`,
    ),
    setBlobParts: db.prepare<[string, string, string]>(
      'UPDATE objects SET blob_parts = ? WHERE bucket = ? AND key = ?',
    ),
    holdBlob: db.prepare<[string, number]>(
      `INSERT INTO blob_refs (ref, size, holders) VALUES (?, ?, 1)
       ON CONFLICT (ref) DO UPDATE SET holders = holders + 1`,
    ),
    releaseBlob: db.prepare<[string], { holders: number }>(
      'UPDATE blob_refs SET holders = holders - 1 WHERE ref = ? RETURNING holders',
    ),
    deleteBlobRef: db.prepare<[string]>('DELETE FROM blob_refs WHERE ref = ?'),
    getBlobRef: db.prepare<[string], { holders: number }>(
      'SELECT holders FROM blob_refs WHERE ref = ?',
    ),
  }
}

// ── pure helpers ───────────────────────────────────────────────────────────────

/** Where a scan starts: at `key` (inclusive) or just after it. */
interface Cursor {
  readonly key: string
  readonly inclusive: boolean
}

/**
 * Walks an index run by run: `rowsFrom(cursor)` yields rows in key order from a cursor, and
 * `take` says for each row whether to go on ('next'), end the scan ('stop'), or seek to a new
 * cursor (past a common prefix) with a fresh run. Leaving a run early closes its iterator.
 */
function scanRuns<Row>(
  start: Cursor | null,
  rowsFrom: (from: Cursor) => Iterable<Row>,
  take: (row: Row) => Cursor | 'stop' | 'next',
): void {
  let from = start
  while (from !== null) {
    let next: Cursor | null = null
    for (const row of rowsFrom(from)) {
      const r = take(row)
      if (r === 'stop') return
      if (r !== 'next') {
        next = r
        break
      }
    }
    from = next
  }
}

function conditionFailure(
  currentEtag: string | undefined,
  condition: WriteCondition,
): PreconditionReason | null {
  if (condition.ifNoneMatch === '*' && currentEtag !== undefined) return 'exists'
  if (condition.ifMatch !== undefined) {
    if (currentEtag === undefined) return 'missing'
    if (condition.ifMatch !== '*' && condition.ifMatch !== currentEtag) return 'etag-mismatch'
  }
  return null
}

/** Compares two strings by their UTF-8 bytes, as SQLite's BINARY collation and S3 do. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** The common prefix `key` rolls up into, or null. */
function commonPrefixOf(key: string, prefix: string, delimiter: string | null): string | null {
  if (delimiter === null) return null
  const at = key.indexOf(delimiter, prefix.length)
  return at < 0 ? null : key.slice(0, at + delimiter.length)
}

/** Whether `marker` is itself a common prefix under `prefix` (a page may end on one). */
function isCommonPrefix(marker: string, prefix: string, delimiter: string | null): boolean {
  return (
    delimiter !== null &&
    marker.startsWith(prefix) &&
    commonPrefixOf(marker, prefix, delimiter) === marker
  )
}

/**
 * The cursor just past every string that starts with `s`: `s` with its last code point
 * incremented. UTF-8 keeps code point order and no code is a prefix of another, so every key
 * under `s` sorts before it and every key at or after it does not start with `s`.
 */
function seekPast(s: string): Cursor | null {
  const points = Array.from(s)
  while (points.length > 0) {
    const last = points.pop()?.codePointAt(0) ?? 0x10ffff
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1
      points.push(String.fromCodePoint(next))
      return { key: points.join(''), inclusive: true }
    }
  }
  return null
}

function blobPartsOf(json: string | null): BlobPart[] {
  return json === null ? [] : (JSON.parse(json) as BlobPart[])
}

/** A blob piece as stored in `blob_parts`: only the fields it has. */
function blobPartJson(p: BlobPart): BlobPart {
  return {
    ref: p.ref,
    size: p.size,
    ...(p.wrappedKey === undefined ? {} : { wrappedKey: p.wrappedKey }),
    ...(p.partNumber === undefined ? {} : { partNumber: p.partNumber }),
  }
}

function encryptionJson(e: ObjectEncryption | null): string | null {
  return e === null
    ? null
    : JSON.stringify({
        algorithm: e.algorithm,
        kmsKeyId: e.kmsKeyId,
        customerKeyFingerprint: e.customerKeyFingerprint,
      })
}

function encryptionOf(json: string | null): ObjectEncryption | null {
  return json === null ? null : (JSON.parse(json) as ObjectEncryption)
}

/** A tag as stored: only its two fields, whatever object carried it. */
function tagJson(t: Tag): Tag {
  return { key: t.key, value: t.value }
}

/** An ACL as stored: exactly its fields, in a fixed order; NULL for the default. */
function aclJson(acl: AccessControlList | null): string | null {
  if (acl === null) return null
  return JSON.stringify({
    owner: acl.owner,
    grants: acl.grants.map((g) => ({
      grantee:
        g.grantee.type === 'CanonicalUser'
          ? { type: 'CanonicalUser', id: g.grantee.id }
          : { type: 'Group', uri: g.grantee.uri },
      permission: g.permission,
    })),
  })
}

/** `buckets.object_lock` (migration 0012): only the known fields, in a fixed order. */
function objectLockJson(c: ObjectLockConfiguration): ObjectLockConfiguration {
  const d = c.defaultRetention
  if (d === undefined) return {}
  return {
    defaultRetention: {
      mode: d.mode,
      ...(d.days === undefined ? {} : { days: d.days }),
      ...(d.years === undefined ? {} : { years: d.years }),
    },
  }
}

function publicAccessBlockJson(b: PublicAccessBlock): PublicAccessBlock {
  return {
    blockPublicAcls: b.blockPublicAcls,
    ignorePublicAcls: b.ignorePublicAcls,
    blockPublicPolicy: b.blockPublicPolicy,
    restrictPublicBuckets: b.restrictPublicBuckets,
  }
}

/** An object's or upload's tags as stored: NULL when there are none. */
function tagsJson(tags: readonly Tag[]): string | null {
  return tags.length === 0 ? null : JSON.stringify(tags.map(tagJson))
}

function tagsOf(json: string): Tag[] {
  return JSON.parse(json) as Tag[]
}

function corsJson(r: CorsRule): CorsRule {
  return {
    id: r.id,
    allowedOrigins: [...r.allowedOrigins],
    allowedMethods: [...r.allowedMethods],
    allowedHeaders: [...r.allowedHeaders],
    exposeHeaders: [...r.exposeHeaders],
    maxAgeSeconds: r.maxAgeSeconds,
  }
}

/** `objects.part_checksums` (migration 0008): NULL unless the object keeps per-part checksums. */
function partChecksumsJson(parts: ObjectRecord['partChecksums']): string | null {
  return parts === undefined || parts === null ? null : JSON.stringify(parts)
}

function toObjectRecord(row: ObjectRow): ObjectRecord {
  return {
    bucket: row.bucket,
    key: row.key,
    versionId: row.version_id,
    size: row.size,
    etag: row.etag,
    lastModified: row.last_modified,
    headers: JSON.parse(row.headers) as Record<string, string>,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
    checksums: JSON.parse(row.checksums) as Checksums,
    checksumType: row.checksum_type,
    partsCount: row.parts_count,
    partSizes: row.part_sizes === null ? null : (JSON.parse(row.part_sizes) as number[]),
    ...(row.part_checksums === null
      ? {}
      : { partChecksums: JSON.parse(row.part_checksums) as Checksums[] }),
    encryption: encryptionOf(row.encryption),
    ...(row.tags === null ? {} : { tags: tagsOf(row.tags) }),
    ...(row.lock_mode === null || row.lock_until === null
      ? {}
      : { retention: { mode: row.lock_mode, retainUntil: row.lock_until } }),
    ...(row.legal_hold === LEGAL_HOLD_NONE ? {} : { legalHold: row.legal_hold === LEGAL_HOLD_ON }),
    ...(row.acl == null ? {} : { acl: JSON.parse(row.acl) as AccessControlList }),
    data:
      row.blob_parts === null
        ? {
            kind: 'inline',
            bytes: row.inline_data ?? Buffer.alloc(0),
            ...(row.inline_key == null ? {} : { wrappedKey: row.inline_key }),
          }
        : { kind: 'blobs', parts: blobPartsOf(row.blob_parts) },
  }
}

/**
 * The `legal_hold` column: never set (no `LegalHold` to answer), `ON`, or explicitly `OFF`
 * (GetObjectLegalHold answers `OFF` only for a hold that was set and released, as AWS does).
 */
const LEGAL_HOLD_NONE = 0
const LEGAL_HOLD_ON = 1
const LEGAL_HOLD_OFF = 2

function legalHoldColumn(hold: boolean | undefined): number {
  if (hold === undefined) return LEGAL_HOLD_NONE
  return hold ? LEGAL_HOLD_ON : LEGAL_HOLD_OFF
}

/** Why a version may not be removed (or replaced) under `lock`, or null when it may. */
function lockRefusal(row: LockColumns, lock: LockOptions): string | null {
  if (row.legal_hold === LEGAL_HOLD_ON) return 'it is under a legal hold'
  if (row.lock_mode === null || row.lock_until === null) return null
  if (row.lock_until <= (lock.now ?? Date.now())) return null
  if (row.lock_mode === 'COMPLIANCE') return 'it is under COMPLIANCE retention'
  return lock.bypassGovernance === true ? null : 'it is under GOVERNANCE retention'
}

/** Throws `ObjectLocked` when a version is locked against removal. */
function checkUnlocked(
  bucket: string,
  key: string,
  versionId: string | null,
  row: LockColumns,
  lock: LockOptions,
): void {
  const why = lockRefusal(row, lock)
  if (why !== null) throw MetaErrors.objectLocked(bucket, key, versionId ?? 'null', why)
}

/**
 * Why a retention change is refused, or null: unexpired COMPLIANCE can only be extended (and
 * stays COMPLIANCE); unexpired GOVERNANCE can be extended or made COMPLIANCE, anything else
 * needs the bypass.
 */
function retentionRefusal(
  row: LockColumns,
  next: ObjectRetention | null,
  lock: LockOptions,
): string | null {
  if (row.lock_mode === null || row.lock_until === null) return null
  if (row.lock_until <= (lock.now ?? Date.now())) return null
  const extends_ = next !== null && next.retainUntil >= row.lock_until
  if (row.lock_mode === 'COMPLIANCE') {
    return extends_ && next?.mode === 'COMPLIANCE'
      ? null
      : 'COMPLIANCE retention can be neither shortened nor removed'
  }
  if (extends_ || lock.bypassGovernance === true) return null
  return 'GOVERNANCE retention can be shortened or removed only with the governance bypass'
}

/** A version id as stored: the `null` version is SQL NULL. */
function idOf(versionId: string): string | null {
  return versionId === 'null' ? null : versionId
}

function markerOf(row: VersionRow, isLatest: boolean): VersionLookup {
  return {
    kind: 'deleteMarker',
    key: row.key,
    versionId: row.version_id,
    lastModified: row.last_modified,
    isLatest,
  }
}

function toVersionSummary(row: VersionListRow, isLatest: boolean): VersionSummary {
  return {
    key: row.key,
    versionId: row.version_id,
    isLatest,
    deleteMarker: row.delete_marker === 1,
    size: row.size,
    etag: row.etag,
    lastModified: row.last_modified,
    checksumAlgorithms: Object.keys(JSON.parse(row.checksums) as Checksums) as ChecksumAlgorithm[],
  }
}

function toSummary([key, size, etag, lastModified, checksums]: SummaryRow): ObjectSummary {
  return {
    key,
    size,
    etag,
    lastModified,
    checksumAlgorithms:
      checksums === '{}'
        ? []
        : (Object.keys(JSON.parse(checksums) as Checksums) as ChecksumAlgorithm[]),
  }
}

function toUploadRecord(row: UploadRow): MultipartUploadRecord {
  return {
    uploadId: row.upload_id,
    bucket: row.bucket,
    key: row.key,
    initiated: row.initiated,
    tenantId: row.tenant_id,
    headers: JSON.parse(row.headers) as Record<string, string>,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
    checksumAlgorithm: row.checksum_algorithm,
    checksumType: row.checksum_type,
    encryption: encryptionOf(row.encryption),
    ...(row.tags === null ? {} : { tags: tagsOf(row.tags) }),
    ...(row.acl == null ? {} : { acl: JSON.parse(row.acl) as AccessControlList }),
    ...(row.object_lock == null
      ? {}
      : {
          objectLock: JSON.parse(row.object_lock) as NonNullable<
            MultipartUploadRecord['objectLock']
          >,
        }),
  }
}

function toPartRecord(row: PartRow): PartRecord {
  return {
    uploadId: row.upload_id,
    partNumber: row.part_number,
    size: row.size,
    etag: row.etag,
    lastModified: row.last_modified,
    checksums: JSON.parse(row.checksums) as Checksums,
    blob: {
      ref: row.blob_ref,
      size: row.blob_size,
      ...(row.wrapped_key === null ? {} : { wrappedKey: row.wrapped_key }),
    },
  }
}
