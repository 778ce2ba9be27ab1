export {
  type AttestRequest,
  type AttestResult,
  attestBucket,
} from './bucket-attestation.js'
export type { Cell, CellDataCenter } from './cell.js'
export { cellDir, cellFolderOf, createCell } from './cell.js'
export type { CellKeys } from './cell-keys.js'
export { type CellLedger, type CellLedgerOptions, openCellLedger } from './cell-ledger.js'
export {
  type CustomerKeyLookup,
  CustomerKeyProviders,
  type CustomerKeyResolver,
  type CustomerKeySpec,
} from './customer-keys.js'
export {
  type KeyRotationSettings,
  type KeyRotationState,
  type KeyRotationStatus,
  KeyRotations,
  MAX_PASSES,
  type RotationRequester,
  type StartRotationResult,
} from './key-rotation.js'
export type { EventQuery, IndexedEntry, LedgerEventIndex } from './ledger-index.js'
export { ledgerReceipt } from './ledger-receipt.js'
export {
  LIFECYCLE_COMPONENT,
  type LifecyclePass,
  type LifecycleSettings,
  LifecycleWorker,
} from './lifecycle/lifecycle-worker.js'
export {
  abortingRule,
  dueAt,
  expiringRule,
  matchesFilter,
  scheduledExpiration,
  type VersionAction,
  type VersionFacts,
  versionAction,
} from './lifecycle/rules.js'
export {
  type CryptoCell,
  decryptingRead,
  decryptingReadInline,
  digestingRead,
  encryptingWrite,
  type ObjectIdentity,
  type ReadKeys,
  type SealedData,
  type SealedPlaintext,
  sealedRead,
} from './object-crypto.js'
export {
  MAX_EVENTS_PAGE,
  type ProvenEvent,
  type TenantEventsPage,
  TenantEventsRangeError,
  type TenantEventsRequest,
  tenantEvents,
} from './tenant-events.js'
