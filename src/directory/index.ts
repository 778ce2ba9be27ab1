export { ACCESS_KEY_PREFIX } from './credentials.js'
export type {
  AccessKeyLookup,
  AccessKeyRecord,
  BucketPlacement,
  Credentials,
  DataCenterInput,
  DataCenterRecord,
  DataCenterState,
  DataCenterTransition,
  Directory,
  KmsKeyLocation,
  KmsKeyRecord,
  KmsKeyWithToken,
  NewAccessKey,
  NewKmsKey,
  NewTransfer,
  RootTenant,
  SeedReport,
  SigningKeyRecord,
  TenantRecord,
  TransferEnd,
  TransferPhase,
  TransferRecord,
  TransferStatus,
  TransferStore,
  TransferUpdate,
} from './directory.js'
export type { DirectoryErrorCode } from './directory-error.js'
export { DIRECTORY_ERROR_CODES, DirectoryError, DirectoryErrors } from './directory-error.js'
export { secretsKeyPath } from './secrets-cipher.js'
export { DATA_CENTER_TRANSITIONS } from './sqlite-data-centers.js'
export type { OpenDirectoryOptions } from './sqlite-directory.js'
export {
  DIRECTORY_LEDGER_ID,
  directoryPath,
  openDirectory,
  ROOT_TENANT_NAME,
} from './sqlite-directory.js'
