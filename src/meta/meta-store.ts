import type { SovraError } from '../core/index.js'
import type { ExpectedObject, LifecycleConfiguration, LifecycleObjectFacts } from './lifecycle.js'

/** The checksum algorithms S3 clients send in `x-amz-checksum-*`. */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256'

/** One stored piece of an object's bytes in the blob store, in order. */
export interface BlobPart {
  readonly ref: string
  /** Plaintext bytes the piece holds (the blob file is the larger envelope). */
  readonly size: number
  /**
   * The piece's data key, wrapped by its key provider (`<provider>:…`): the blob is an
   * encrypted envelope. Absent only for pieces written before encryption at rest (plaintext).
   */
  readonly wrappedKey?: string
  /** The multipart part number bound into the piece's envelope; absent for a whole object. */
  readonly partNumber?: number
}

/**
 * Where an object's bytes are: inline in the metadata store (small) or in blob files. Inline
 * `bytes` are the envelope (ciphertext) when `wrappedKey` is present, else legacy plaintext.
 */
export type ObjectData =
  | { readonly kind: 'inline'; readonly bytes: Buffer; readonly wrappedKey?: string }
  | { readonly kind: 'blobs'; readonly parts: readonly BlobPart[] }

/** How an object's data keys are protected, as S3 reports it. Never holds key material. */
export interface ObjectEncryption {
  /** `x-amz-server-side-encryption`: `AES256` (data center key or SSE-C) or `aws:kms`. */
  readonly algorithm: 'AES256' | 'aws:kms'
  /** The key id named for `aws:kms`, else null. */
  readonly kmsKeyId: string | null
  /** SSE-C: a salted HMAC that recognises the customer's key (never the key), else null. */
  readonly customerKeyFingerprint: string | null
}

/** A bucket's default encryption (PutBucketEncryption). */
export interface BucketEncryption {
  readonly algorithm: 'AES256' | 'aws:kms'
  readonly kmsKeyId: string | null
  readonly bucketKeyEnabled: boolean
}

/** One tag of an object or a bucket (S3 `Tag`). */
export interface Tag {
  readonly key: string
  readonly value: string
}

/** One rule of a bucket's CORS configuration (S3 `CORSRule`). */
export interface CorsRule {
  readonly id: string | null
  readonly allowedOrigins: readonly string[]
  readonly allowedMethods: readonly string[]
  readonly allowedHeaders: readonly string[]
  readonly exposeHeaders: readonly string[]
  readonly maxAgeSeconds: number | null
}

/** A bucket's versioning state (PutBucketVersioning); a bucket never set is unversioned. */
export type VersioningStatus = 'Enabled' | 'Suspended'
/** Who an ACL grant is for: a tenant by canonical id, or a predefined group by URI. */
export type AclGrantee =
  | { readonly type: 'CanonicalUser'; readonly id: string }
  | { readonly type: 'Group'; readonly uri: string }

/** The permissions an S3 ACL grants. */
export type AclPermission = 'FULL_CONTROL' | 'WRITE' | 'WRITE_ACP' | 'READ' | 'READ_ACP'

/** One grant of an ACL (S3 `Grant`). */
export interface AclGrant {
  readonly grantee: AclGrantee
  readonly permission: AclPermission
}

/** An ACL (S3 `AccessControlPolicy`): the owner's canonical id and the grants, in order. */
export interface AccessControlList {
  readonly owner: string
  readonly grants: readonly AclGrant[]
}

/** S3 Object Ownership (PutBucketOwnershipControls). */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter'

/** S3 PublicAccessBlockConfiguration. */
export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean
  readonly ignorePublicAcls: boolean
  readonly blockPublicPolicy: boolean
  readonly restrictPublicBuckets: boolean
}

/** A bucket as the cell knows it. */
export interface BucketRecord {
  readonly name: string
  readonly tenantId: string
  readonly createdAt: number
  /** The default encryption set with PutBucketEncryption; absent or null when none was set. */
  readonly encryption?: BucketEncryption | null
  /** The tag set of PutBucketTagging; absent or null when none was set. */
  readonly tags?: readonly Tag[] | null
  /** The rules of PutBucketCors; absent or null when none were set. */
  readonly cors?: readonly CorsRule[] | null
  /** The versioning state; absent or null while versioning was never enabled. */
  readonly versioning?: VersioningStatus | null
  /** The bucket policy document as sent (PutBucketPolicy); absent or null when none was set. */
  readonly policy?: string | null
  /** The bucket's ACL; absent or null: private to the owner. */
  readonly acl?: AccessControlList | null
  /** Object Ownership; absent or null: no ownership controls (ACLs apply, as ObjectWriter). */
  readonly ownership?: ObjectOwnership | null
  /** The PublicAccessBlock configuration; absent or null: nothing blocked. */
  readonly publicAccessBlock?: PublicAccessBlock | null
  /** The Object Lock configuration; absent or null: Object Lock is not enabled. */
  readonly objectLock?: ObjectLockConfiguration | null
}

/**
 * A bucket's Object Lock configuration: once present, Object Lock is enabled for good; the
 * optional default retention applies to new versions written without their own.
 */
export interface ObjectLockConfiguration {
  readonly defaultRetention?: {
    readonly mode: ObjectRetention['mode']
    /** Exactly one of `days` and `years`. */
    readonly days?: number
    readonly years?: number
  }
}

/** An object version's retention (Object Lock): no removal before `retainUntil`. */
export interface ObjectRetention {
  /** GOVERNANCE: the owner may remove or shorten it with a bypass; COMPLIANCE: nobody may. */
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE'
  /** Milliseconds since the epoch. */
  readonly retainUntil: number
}

/** How a removal or a retention change treats Object Lock. */
export interface LockOptions {
  /** The time locks are judged at (the server's injectable clock); default `Date.now()`. */
  readonly now?: number
  /** `x-amz-bypass-governance-retention`, allowed (`s3:BypassGovernanceRetention`). */
  readonly bypassGovernance?: boolean
}

/** Everything stored about one object. `data.bytes` is present only when asked for. */
export interface ObjectRecord {
  readonly bucket: string
  readonly key: string
  /**
   * The version's id (`newVersionId()`), or null for the `null` version: every object of an
   * unversioned bucket, and what a suspended bucket writes.
   */
  readonly versionId: string | null
  readonly size: number
  /** Unquoted: md5 hex, or `<md5-of-md5s>-N` for multipart objects. */
  readonly etag: string
  /** Milliseconds since the epoch. */
  readonly lastModified: number
  /** Content-Type, Content-Encoding, Content-Disposition, Cache-Control, Expires, Content-Language (lower-case names). */
  readonly headers: Readonly<Record<string, string>>
  /** `x-amz-meta-*` values, names lower-case without the prefix. */
  readonly userMetadata: Readonly<Record<string, string>>
  /** Base64 checksums by algorithm. */
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>
  readonly checksumType: 'FULL_OBJECT' | 'COMPOSITE' | null
  /** Number of parts for a multipart object, else null. */
  readonly partsCount: number | null
  /** Sizes of each part for a multipart object (GET ?partNumber), else null. */
  readonly partSizes: readonly number[] | null
  /**
   * Each part's checksums (base64 by algorithm), in part order, aligned with `partSizes`: for a
   * multipart object whose upload named a checksum algorithm (GetObjectAttributes `ObjectParts`,
   * GET ?partNumber). Absent or null otherwise, and for objects completed before it was kept.
   */
  readonly partChecksums?: readonly Readonly<Partial<Record<ChecksumAlgorithm, string>>>[] | null
  /** How the bytes are encrypted at rest; null only for objects written before encryption. */
  readonly encryption: ObjectEncryption | null
  /** The object's tags, in the order they were given; absent or empty when it has none. */
  readonly tags?: readonly Tag[]
  /** Object Lock retention; absent or null when none. */
  readonly retention?: ObjectRetention | null
  /** Object Lock legal hold: true `ON`, false `OFF` (set, then released), absent never set. */
  readonly legalHold?: boolean
  /** The object's ACL; absent: the default (private, owned by the bucket owner). */
  readonly acl?: AccessControlList
  readonly data: ObjectData
}

/** What a listing returns per key (no bytes). */
export interface ObjectSummary {
  readonly key: string
  readonly size: number
  readonly etag: string
  readonly lastModified: number
  readonly checksumAlgorithms: readonly ChecksumAlgorithm[]
}

/** One entry of a version listing: an object version or a delete marker (no bytes). */
export interface VersionSummary {
  readonly key: string
  /** null for the `null` version. */
  readonly versionId: string | null
  /** Whether this is the key's current version. */
  readonly isLatest: boolean
  readonly deleteMarker: boolean
  /** 0 and '' for a delete marker. */
  readonly size: number
  readonly etag: string
  readonly lastModified: number
  readonly checksumAlgorithms: readonly ChecksumAlgorithm[]
}

/** ListObjectVersions' selection: S3's key and version-id markers. */
export interface ListVersionsOptions {
  readonly prefix: string
  readonly delimiter: string | null
  /** Exclusive: without `versionIdMarker`, list keys strictly after this one. */
  readonly keyMarker: string | null
  /** With `keyMarker`: continue with that key's versions older than this one ('null' allowed). */
  readonly versionIdMarker: string | null
  readonly maxKeys: number
}

export interface ListVersionsResult {
  /** Key order (UTF-8 bytes), newest first within a key. */
  readonly versions: readonly VersionSummary[]
  readonly commonPrefixes: readonly string[]
  readonly isTruncated: boolean
  /** The last key or common prefix returned. */
  readonly nextKeyMarker: string | null
  /** The last version id returned ('null' for the null version); null after a common prefix. */
  readonly nextVersionIdMarker: string | null
}

/** What a version lookup found: an object version, or a delete marker. */
export type VersionLookup =
  | { readonly kind: 'object'; readonly record: ObjectRecord }
  | {
      readonly kind: 'deleteMarker'
      readonly key: string
      readonly versionId: string | null
      readonly lastModified: number
      readonly isLatest: boolean
    }

/** Which version a read names: absent = the current one, 'null' = the null version. */
export interface VersionSelector {
  readonly versionId?: string
}

/** What `deleteObject` removes or writes (with no option: the current version, for good). */
export interface DeleteObjectOptions extends WriteOptions, LockOptions {
  /** Removes this version for good ('null' = the null version); nothing if there is none. */
  readonly versionId?: string
  /**
   * Writes a delete marker with this id (null: the `null` version, as a suspended bucket does),
   * which becomes the current version. The version of the same id, if any, is replaced.
   */
  readonly marker?: { readonly versionId: string | null; readonly lastModified: number }
  /**
   * Act only on the current version read a moment before (the lifecycle worker's expiry): another
   * ETag or modification time, or no current object, fails with `PreconditionFailed` and changes
   * nothing.
   */
  readonly expect?: ExpectedObject
}

/** What `deleteObject` did. */
export interface DeleteObjectResult {
  /** Whether a version was removed or a marker written. */
  readonly deleted: boolean
  /** The id of the version removed or of the marker written ('null' id as null). */
  readonly versionId: string | null
  /** True when a marker was written, or the version removed was a marker. */
  readonly deleteMarker: boolean
  readonly orphaned: readonly BlobPart[]
}

export interface ListObjectsOptions {
  readonly prefix: string
  readonly delimiter: string | null
  /** Exclusive: list keys (or common prefixes) strictly after this. */
  readonly after: string | null
  readonly maxKeys: number
}

export interface ListObjectsResult {
  readonly objects: readonly ObjectSummary[]
  readonly commonPrefixes: readonly string[]
  readonly isTruncated: boolean
  /** The last key or common prefix returned; the `after` of the next page. */
  readonly lastReturned: string | null
}

/** An upload in progress. */
export interface MultipartUploadRecord {
  readonly uploadId: string
  readonly bucket: string
  readonly key: string
  readonly initiated: number
  readonly tenantId: string
  readonly headers: Readonly<Record<string, string>>
  readonly userMetadata: Readonly<Record<string, string>>
  readonly checksumAlgorithm: ChecksumAlgorithm | null
  readonly checksumType: 'FULL_OBJECT' | 'COMPOSITE' | null
  /** The encryption every part and the completed object get; null for legacy uploads. */
  readonly encryption: ObjectEncryption | null
  /** The tags the completed object gets (`x-amz-tagging` at creation); absent when none. */
  readonly tags?: readonly Tag[]
  /** The ACL the completed object gets (`x-amz-acl` / `x-amz-grant-*` at creation); absent: default. */
  readonly acl?: AccessControlList
  /**
   * The Object Lock the completed object gets (`x-amz-object-lock-*` at creation); absent: none
   * asked for (the bucket's default retention applies at completion).
   */
  readonly objectLock?: { readonly retention?: ObjectRetention; readonly legalHold?: boolean }
}

export interface PartRecord {
  readonly uploadId: string
  readonly partNumber: number
  readonly size: number
  /** Unquoted md5 hex. */
  readonly etag: string
  readonly lastModified: number
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>
  readonly blob: BlobPart
}

export interface ListUploadsOptions {
  readonly prefix: string
  readonly delimiter: string | null
  readonly keyMarker: string | null
  readonly uploadIdMarker: string | null
  readonly maxUploads: number
}

export interface ListUploadsResult {
  readonly uploads: readonly MultipartUploadRecord[]
  readonly commonPrefixes: readonly string[]
  readonly isTruncated: boolean
  /** The last key or common prefix returned; the `keyMarker` of the next page. */
  readonly nextKeyMarker: string | null
  /** The last upload id returned when the page ended on an upload, else null. */
  readonly nextUploadIdMarker: string | null
}

/** Condition checked atomically with the write (conditional PUT). */
export interface WriteCondition {
  /** Unquoted etag the current object must have, or '*' for "must exist". */
  readonly ifMatch?: string
  /** '*' means "must not exist". */
  readonly ifNoneMatch?: '*'
}

/** Options of every write that changes customer data. */
export interface WriteOptions {
  /**
   * Ledger events (canonical JSON entries) committed in the same transaction as the change:
   * durable exactly when it is, and never without it. The cell moves them to its log.
   */
  readonly events?: readonly Uint8Array[]
}

/** Options of `deleteObject`. */
/** One object's progress in a transfer through the gate (kept in the destination's cell). */
export interface TransferObjectProgress {
  readonly key: string
  /** `copied`: destination durable; `done`: finished (source removed for move); `missing`: not at the source. */
  readonly state: 'copied' | 'done' | 'missing'
  readonly size: number
  readonly etag: string
}

/** A transfer's counters: objects and bytes finished, listed keys the source did not have. */
export interface TransferCounts {
  readonly objectsDone: number
  readonly bytesDone: number
  readonly objectsMissing: number
}

/** A ledger event waiting in the outbox (structurally the ledger's `OutboxEntry`). */
export interface LedgerOutboxEntry {
  readonly seq: number
  readonly entry: Uint8Array
}

/**
 * Where a page of `listWrappedKeys` ended: after an object (every piece of it), a noncurrent
 * version, or after one part
 * of an open multipart upload. Plain JSON, so a background job can persist it and resume.
 */
export type WrappedKeyCursor =
  | { readonly area: 'objects'; readonly key: string }
  /** After noncurrent version `seq` of `key` (the store's internal order of versions). */
  | { readonly area: 'versions'; readonly key: string; readonly seq: number }
  | { readonly area: 'parts'; readonly uploadId: string; readonly partNumber: number }

/** Where one wrapped data key is stored. */
export type WrappedKeyLocation =
  /** The inline bytes of object `key` (`versionId` present: a noncurrent version's). */
  | { readonly kind: 'inline'; readonly key: string; readonly versionId?: string | null }
  /** Piece `index` (blob `ref`) of object `key`'s blob parts (`versionId`: a noncurrent version's). */
  | {
      readonly kind: 'piece'
      readonly key: string
      readonly index: number
      readonly ref: string
      readonly versionId?: string | null
    }
  /** Part `partNumber` (blob `ref`) of the open multipart upload `uploadId`. */
  | {
      readonly kind: 'part'
      readonly key: string
      readonly uploadId: string
      readonly partNumber: number
      readonly ref: string
    }

/** One wrapped data key of a bucket and where it is stored. */
export interface StoredWrappedKey {
  readonly location: WrappedKeyLocation
  readonly wrappedKey: string
}

/** One page of a bucket's wrapped data keys. */
export interface WrappedKeyPage {
  readonly keys: readonly StoredWrappedKey[]
  /** Where the next page starts (pass as `after`), or null when the bucket has no more. */
  readonly next: WrappedKeyCursor | null
}

/**
 * One cell's object metadata. Every write is durable when its promise resolves. Methods that
 * drop objects or parts return the blob refs that are no longer referenced, which the caller
 * removes from the blob store after the commit (a crash in between leaves orphans the startup
 * sweep removes, never a dangling reference).
 */
export interface MetaStore {
  createBucket(bucket: BucketRecord, options?: WriteOptions): Promise<void>
  getBucket(name: string): Promise<BucketRecord | null>
  /** Sets (or, with null, removes) the bucket's default encryption; `NoSuchBucket` if absent. */
  setBucketEncryption(name: string, encryption: BucketEncryption | null): Promise<void>
  /** Sets (or, with null, removes) the bucket's tag set; `NoSuchBucket` if absent. */
  setBucketTags(name: string, tags: readonly Tag[] | null, options?: WriteOptions): Promise<void>
  /** Sets (or, with null, removes) the bucket's CORS rules; `NoSuchBucket` if absent. */
  setBucketCors(
    name: string,
    rules: readonly CorsRule[] | null,
    options?: WriteOptions,
  ): Promise<void>
  /** The bucket's lifecycle configuration, or null when none is set (or no such bucket). */
  getBucketLifecycle(name: string): Promise<LifecycleConfiguration | null>
  /** Sets (or, with null, removes) the bucket's lifecycle configuration; `NoSuchBucket` if absent. */
  setBucketLifecycle(
    name: string,
    config: LifecycleConfiguration | null,
    options?: WriteOptions,
  ): Promise<void>
  /** Buckets that have a lifecycle configuration, in byte order, after `after` (exclusive). */
  listLifecycleBuckets(options: {
    readonly after: string
    readonly limit: number
  }): Promise<readonly string[]>
  /**
   * A page of the bucket's current objects under `prefix` as the lifecycle worker reads them
   * (key, size, ETag, time, tags; no bytes), in key order after `after` (a key an earlier page
   * returned, or null). Fewer than `limit` means there are no more.
   */
  scanLifecycleObjects(
    bucket: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
  ): Promise<readonly LifecycleObjectFacts[]>
  /** Sets the bucket's versioning state; `NoSuchBucket` if absent. */
  setBucketVersioning(name: string, status: VersioningStatus, options?: WriteOptions): Promise<void>
  /** Sets (or, with null, removes) the bucket policy document; `NoSuchBucket` if absent. */
  setBucketPolicy(name: string, policy: string | null, options?: WriteOptions): Promise<void>
  /** Sets (or, with null, resets to private) the bucket's ACL; `NoSuchBucket` if absent. */
  setBucketAcl(name: string, acl: AccessControlList | null, options?: WriteOptions): Promise<void>
  /** Sets (or, with null, removes) the Object Ownership setting; `NoSuchBucket` if absent. */
  setBucketOwnership(
    name: string,
    ownership: ObjectOwnership | null,
    options?: WriteOptions,
  ): Promise<void>
  /** Sets (or, with null, removes) the PublicAccessBlock; `NoSuchBucket` if absent. */
  setBucketPublicAccessBlock(
    name: string,
    block: PublicAccessBlock | null,
    options?: WriteOptions,
  ): Promise<void>
  /**
   * Sets the bucket's Object Lock configuration (enabling Object Lock for good); `NoSuchBucket`
   * if absent.
   */
  setBucketObjectLock(
    name: string,
    config: ObjectLockConfiguration,
    options?: WriteOptions,
  ): Promise<void>
  /** Fails with `BucketNotEmpty` while objects, versions or delete markers remain; aborts the bucket's uploads and returns their blobs. */
  deleteBucket(
    name: string,
    options?: WriteOptions,
  ): Promise<{ readonly orphaned: readonly BlobPart[] }>

  /**
   * Returns the current version (or, with `versionId`, that version); null when there is none
   * or it is a delete marker. `data.bytes` of inline objects is filled only when `withData` is
   * true (else empty).
   */
  getObject(
    bucket: string,
    key: string,
    options?: { withData?: boolean } & VersionSelector,
  ): Promise<ObjectRecord | null>
  /** Like `getObject`, but tells a delete marker apart from nothing at all. */
  getVersion(
    bucket: string,
    key: string,
    options?: { withData?: boolean } & VersionSelector,
  ): Promise<VersionLookup | null>
  /**
   * Writes `record` as the key's current version. The version with the same id (`null`
   * included), wherever it is, is replaced; the previous current version, if it has another id,
   * becomes noncurrent. Checks `condition` against the current version in the same transaction
   * (`PreconditionFailed`).
   */
  putObject(
    record: ObjectRecord,
    condition?: WriteCondition,
    options?: WriteOptions,
  ): Promise<{ readonly orphaned: readonly BlobPart[] }>
  /**
   * Removes a version for good, or writes a delete marker (see `DeleteObjectOptions`). When the
   * current version goes, the newest remaining version becomes current. A version under legal
   * hold or unexpired retention (GOVERNANCE without `bypassGovernance`) is not removed:
   * `ObjectLocked`, checked in the same transaction.
   */
  deleteObject(
    bucket: string,
    key: string,
    options?: DeleteObjectOptions,
  ): Promise<DeleteObjectResult>
  /**
   * Replaces the tags of an existing object version (an empty list removes them), leaving
   * everything else as it is; `NoSuchKey` if there is no current object, `NoSuchVersion` if the
   * named version does not exist or is a delete marker.
   */
  setObjectTags(
    bucket: string,
    key: string,
    tags: readonly Tag[],
    options?: WriteOptions & VersionSelector,
  ): Promise<void>
  /**
   * Replaces the ACL of an existing object (null: the default), leaving everything else as it
   * is; `NoSuchKey` if the object does not exist.
   */
  setObjectAcl(
    bucket: string,
    key: string,
    acl: AccessControlList | null,
    options?: WriteOptions,
  ): Promise<void>
  /**
   * Sets (null: removes) a version's retention. Unexpired COMPLIANCE retention can be neither
   * shortened nor removed, nor made GOVERNANCE; unexpired GOVERNANCE retention only with
   * `bypassGovernance`; extending is always allowed (`ObjectLocked` otherwise).
   * `NoSuchKey`/`NoSuchVersion` as `setObjectTags`.
   */
  setObjectRetention(
    bucket: string,
    key: string,
    retention: ObjectRetention | null,
    options?: WriteOptions & VersionSelector & LockOptions,
  ): Promise<void>
  /** Turns a version's legal hold on or off; `NoSuchKey`/`NoSuchVersion` as `setObjectTags`. */
  setObjectLegalHold(
    bucket: string,
    key: string,
    on: boolean,
    options?: WriteOptions & VersionSelector,
  ): Promise<void>
  /** Current versions that are not delete markers, by key. */
  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsResult>
  /** Every version and delete marker, by key and newest first within a key. */
  listObjectVersions(bucket: string, options: ListVersionsOptions): Promise<ListVersionsResult>
  /** Whether the bucket holds at least one current object (not counting delete markers). */
  hasObjects(bucket: string): Promise<boolean>

  createMultipartUpload(upload: MultipartUploadRecord): Promise<void>
  getMultipartUpload(bucket: string, uploadId: string): Promise<MultipartUploadRecord | null>
  /** Records a part; replaces an earlier part of the same number and returns its blob. */
  putPart(part: PartRecord): Promise<{ readonly orphaned: readonly BlobPart[] }>
  listParts(
    uploadId: string,
    options: { readonly after: number; readonly maxParts: number },
  ): Promise<{
    readonly parts: readonly PartRecord[]
    readonly isTruncated: boolean
  }>
  /** All parts of an upload, ordered by part number. */
  allParts(uploadId: string): Promise<readonly PartRecord[]>
  /**
   * Atomically: the upload and its part rows go, `record` is written (condition checked).
   * Returns the blobs no longer referenced (replaced object, parts not used).
   */
  completeMultipartUpload(
    uploadId: string,
    record: ObjectRecord,
    condition?: WriteCondition,
    options?: WriteOptions,
  ): Promise<{ readonly orphaned: readonly BlobPart[] }>
  abortMultipartUpload(
    bucket: string,
    uploadId: string,
  ): Promise<{ readonly orphaned: readonly BlobPart[] }>
  listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsResult>

  /**
   * A page of the bucket's wrapped data keys in a stable order: objects by key (each object's
   * inline key, or its pieces in order), then noncurrent versions by key and age, then parts of open uploads by upload id and part
   * number. `limit` bounds the objects and parts read (an object yields all its pieces); rows
   * without a wrapped key (written before encryption) are not listed. `NoSuchBucket` if absent.
   */
  listWrappedKeys(
    bucket: string,
    options: { readonly after: WrappedKeyCursor | null; readonly limit: number },
  ): Promise<WrappedKeyPage>
  /**
   * Compare-and-swap of one wrapped data key, in one transaction: replaces it with `replacement`
   * only if the location still holds `expected` (the same object or part, not overwritten,
   * deleted or completed since it was read). Returns whether it replaced; false is not an error.
   */
  replaceWrappedKey(bucket: string, stored: StoredWrappedKey, replacement: string): Promise<boolean>

  /** Whether any object or part references this blob (startup sweep). */
  isBlobReferenced(ref: string): Promise<boolean>

  /** Committed ledger events not yet moved to the log, oldest first. */
  readLedgerOutbox(limit: number): Promise<LedgerOutboxEntry[]>
  /** Forgets outbox entries up to `seq` (need not be durable: the drain dedupes at start). */
  ackLedgerOutbox(throughSeq: number): Promise<void>
  /** How many committed events wait in the outbox (for pushback). */
  ledgerOutboxSize(): number
  /** Called after events became durable in the outbox (one listener; the cell's drain). */
  onLedgerOutbox(listener: () => void): void

  /** One object's progress in a transfer this cell receives, or null. */
  transferObject(transferId: string, key: string): Promise<TransferObjectProgress | null>
  /**
   * Records one object's progress durably; when it first becomes `done` or `missing`, bumps the
   * transfer's counters in the same transaction. Returns the counters after the change.
   */
  recordTransferObject(transferId: string, object: TransferObjectProgress): Promise<TransferCounts>
  /** A transfer's objects in `state`, in key order, after `after` (exclusive), at most `limit`. */
  listTransferObjects(
    transferId: string,
    options: {
      readonly state: TransferObjectProgress['state']
      readonly after: string
      readonly limit: number
    },
  ): Promise<TransferObjectProgress[]>
  /** A transfer's counters (zeros when nothing was recorded). */
  transferCounts(transferId: string): Promise<TransferCounts>
  /** Drops a finished transfer's progress rows. */
  forgetTransfer(transferId: string): Promise<void>
  close(): Promise<void>
}

/** Codes a MetaStore raises. */
export const META_ERROR_CODES = [
  'BucketAlreadyExists',
  'NoSuchBucket',
  'BucketNotEmpty',
  'NoSuchUpload',
  'NoSuchKey',
  'NoSuchVersion',
  'ObjectLocked',
  'PreconditionFailed',
  'ConditionalRequestConflict',
  'StoreClosed',
] as const
export type MetaErrorCode = (typeof META_ERROR_CODES)[number]
export type MetaError = SovraError<MetaErrorCode>
