import { SovraError } from '../core/index.js'

/** Every code a directory error can carry; a retired code is never reused. */
export const DIRECTORY_ERROR_CODES = [
  'NoSuchTenant',
  'TenantAlreadyExists',
  'NoSuchAccessKey',
  'AccessKeyAlreadyExists',
  'InvalidAccessKey',
  'BucketAlreadyExists',
  'BucketAlreadyOwnedByYou',
  'NoSuchBucket',
  'NoSuchDataCenter',
  'InvalidArgument',
  'SecretsUnavailable',
  'UnsupportedSchemaVersion',
  'NoSuchSigningKey',
  'SigningKeyAlreadyExists',
  'InstructionNonceUsed',
  'NoSuchTransfer',
] as const

/** A directory error code. */
export type DirectoryErrorCode = (typeof DIRECTORY_ERROR_CODES)[number]

/** An error raised by the directory (tenants, access keys, bucket placement, DC catalog). */
export class DirectoryError extends SovraError<DirectoryErrorCode> {
  constructor(
    code: DirectoryErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('directory', code, message, options)
  }
}

/** Factory table for directory errors. */
export const DirectoryErrors = {
  noSuchTenant: (idOrName: string) =>
    new DirectoryError('NoSuchTenant', `Cannot find tenant "${idOrName}": it does not exist`),
  tenantAlreadyExists: (name: string) =>
    new DirectoryError('TenantAlreadyExists', `Cannot create tenant "${name}": it already exists`),
  noSuchAccessKey: (accessKeyId: string) =>
    new DirectoryError(
      'NoSuchAccessKey',
      `Cannot find access key "${accessKeyId}": it does not exist`,
    ),
  accessKeyAlreadyExists: (accessKeyId: string) =>
    new DirectoryError(
      'AccessKeyAlreadyExists',
      `Cannot create access key "${accessKeyId}": it already exists`,
    ),
  invalidAccessKey: (accessKeyId: string, reason: string) =>
    new DirectoryError('InvalidAccessKey', `Invalid access key "${accessKeyId}": ${reason}`),
  bucketAlreadyExists: (name: string) =>
    new DirectoryError(
      'BucketAlreadyExists',
      `Cannot reserve bucket "${name}": it is owned by another tenant`,
    ),
  bucketAlreadyOwnedByYou: (name: string, dcId: string) =>
    new DirectoryError(
      'BucketAlreadyOwnedByYou',
      `Cannot reserve bucket "${name}": you already own it in "${dcId}"`,
      { details: { dcId } },
    ),
  noSuchBucket: (name: string) =>
    new DirectoryError('NoSuchBucket', `Cannot find bucket "${name}": it does not exist`),
  noSuchDataCenter: (id: string) =>
    new DirectoryError(
      'NoSuchDataCenter',
      `Cannot find data center "${id}": it is not in the catalog`,
    ),
  invalidArgument: (what: string, value: string, reason: string) =>
    new DirectoryError('InvalidArgument', `Invalid ${what} "${value}": ${reason}`),
  secretsUnavailable: (reason: string, cause?: unknown) =>
    new DirectoryError('SecretsUnavailable', `Cannot use the directory secrets key: ${reason}`, {
      cause,
    }),
  noSuchSigningKey: (keyId: string) =>
    new DirectoryError('NoSuchSigningKey', `Cannot find signing key "${keyId}": it does not exist`),
  signingKeyAlreadyExists: (keyId: string) =>
    new DirectoryError(
      'SigningKeyAlreadyExists',
      `Cannot register signing key "${keyId}": it is already registered`,
    ),
  instructionNonceUsed: (nonce: string) =>
    new DirectoryError(
      'InstructionNonceUsed',
      `Cannot record transfer instruction with nonce "${nonce}": it was already used`,
      { details: { nonce } },
    ),
  noSuchTransfer: (id: string) =>
    new DirectoryError('NoSuchTransfer', `Cannot find transfer "${id}": it does not exist`),
} as const
