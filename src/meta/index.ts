import type { MetaStore } from './meta-store.js'
import { openSqliteMetaStore } from './sqlite/sqlite-meta-store.js'

export type {
  ExpectedObject,
  LifecycleConfiguration,
  LifecycleExpiration,
  LifecycleFilter,
  LifecycleObjectFacts,
  LifecycleRule,
  LifecycleTag,
  NoncurrentVersionExpiration,
} from './lifecycle.js'
export { MetaError, MetaErrors, type PreconditionReason } from './meta-error.js'
export {
  type AccessControlList,
  type AclGrant,
  type AclGrantee,
  type AclPermission,
  type BlobPart,
  type BucketEncryption,
  type BucketRecord,
  type ChecksumAlgorithm,
  type CorsRule,
  type DeleteObjectOptions,
  type DeleteObjectResult,
  type LedgerOutboxEntry,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ListUploadsOptions,
  type ListUploadsResult,
  type ListVersionsOptions,
  type ListVersionsResult,
  type LockOptions,
  META_ERROR_CODES,
  type MetaErrorCode,
  type MetaStore,
  type MultipartUploadRecord,
  type ObjectData,
  type ObjectEncryption,
  type ObjectLockConfiguration,
  type ObjectOwnership,
  type ObjectRecord,
  type ObjectRetention,
  type ObjectSummary,
  type PartRecord,
  type PublicAccessBlock,
  type StoredWrappedKey,
  type Tag,
  type TransferCounts,
  type TransferObjectProgress,
  type VersioningStatus,
  type VersionLookup,
  type VersionSelector,
  type VersionSummary,
  type WrappedKeyCursor,
  type WrappedKeyLocation,
  type WrappedKeyPage,
  type WriteCondition,
  type WriteOptions,
} from './meta-store.js'
export { isVersionId, newVersionId } from './version-id.js'

/** Which metadata driver to open, and where. */
export type MetaStoreConfig = { readonly driver: 'sqlite'; readonly path: string }

/** Opens the metadata store named by `config.driver`, creating and migrating it if needed. */
export async function openMetaStore(config: MetaStoreConfig): Promise<MetaStore> {
  switch (config.driver) {
    case 'sqlite':
      return openSqliteMetaStore({ driver: 'sqlite', path: config.path })
  }
}
