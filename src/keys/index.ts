// The keys domain: the at-rest envelope, key providers, the keyd server core and SSE-C helpers.
export * from './envelope/index.js'
export {
  isKeyError,
  KEY_ERROR_CODES,
  KeyError,
  type KeyErrorCode,
  KeyErrors,
} from './key-error.js'
export {
  decodeKeyContext,
  encodeKeyContext,
  type KeyContext,
  type KeyProvider,
  MAX_WRAPPED_KEY_LENGTH,
  type SupportsKeyDestruction,
  type SupportsKeyRotation,
  supportsKeyDestruction,
  supportsKeyRotation,
  type WrappedKey,
} from './key-provider.js'
export { KeydAdminClient, type KeydKeyInfo } from './keyd/keyd-admin-client.js'
export type { AuditRecord } from './keyd/keyd-audit-log.js'
export {
  KEYD_DEFAULT_HOST,
  KEYD_DEFAULT_PORT,
  type KeydFile,
  type KeydSettings,
  keydFileSchema,
  parseKeydFile,
} from './keyd/keyd-file-config.js'
export {
  createKeyd,
  type Keyd,
  type KeydConfig,
  type KeydDeps,
  type KeydToken,
} from './keyd/keyd-server.js'
export {
  type LedgerReceiptDeps,
  type LedgerReceiptPolicy,
  ledgerReceiptAuthorizer,
  type ReceiptVerifier,
  UNWRAP_ACCESS_EVENTS,
  type VerifiedReceipt,
} from './keyd/ledger-receipt-authorizer.js'
export {
  allowAllUnwraps,
  type UnwrapAuthorizer,
  type UnwrapDecision,
  type UnwrapRequest,
} from './keyd/unwrap-authorizer.js'
export {
  KMS_KEY_ID_PATTERN,
  type KmsKeyRef,
  kmsKeyArn,
  parseKmsKeyArn,
  resolveKmsKeyId,
} from './kms-key-id.js'
export {
  type BucketExists,
  DcKeyProvider,
  type DcKeyProviderConfig,
  masterKeyPath,
} from './providers/dc-key-provider.js'
export {
  type FetchLike,
  type ReceiptSource,
  TRANSIT_KEY_NAME_PATTERN,
  type VaultTransitConfig,
  VaultTransitProvider,
} from './providers/vault-transit-provider.js'
export {
  checkSseCForRead,
  createSseCKeyProvider,
  matchesSseCFingerprint,
  parseSseCHeaders,
  SSE_C_COPY_SOURCE_HEADERS,
  SSE_C_HEADERS,
  type SseCKey,
  sseCFingerprint,
  sseCResponseHeaders,
} from './sse-c.js'
