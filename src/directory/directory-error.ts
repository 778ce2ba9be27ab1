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
  'DataCenterAlreadyExists',
  'PortInUse',
  'UnknownJurisdiction',
  'InvalidStatusTransition',
  'DataCenterNotEmpty',
  'NoSuchSigningKey',
  'SigningKeyAlreadyExists',
  'InstructionNonceUsed',
  'NoSuchTransfer',
  'NoSuchKmsKey',
  'KmsKeyAlreadyExists',
  'KmsKeyInUse',
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
  dataCenterAlreadyExists: (id: string) =>
    new DirectoryError(
      'DataCenterAlreadyExists',
      `Cannot add data center "${id}": it is already in the catalog (ids are never reused)`,
    ),
  portInUse: (port: number, owner: string) =>
    new DirectoryError('PortInUse', `Cannot use port "${port}": it belongs to "${owner}"`, {
      details: { owner },
    }),
  unknownJurisdiction: (code: string) =>
    new DirectoryError(
      'UnknownJurisdiction',
      `Unknown jurisdiction "${code}": expected an assigned ISO 3166-1 alpha-2 code such as "US"`,
    ),
  invalidStatusTransition: (id: string, from: string, to: string) =>
    new DirectoryError(
      'InvalidStatusTransition',
      `Cannot make data center "${id}" ${to}: it is ${from}`,
      { details: { status: from } },
    ),
  dataCenterNotEmpty: (id: string, buckets: number) =>
    new DirectoryError(
      'DataCenterNotEmpty',
      `Cannot retire data center "${id}": it still holds "${buckets}" buckets`,
      { details: { buckets: String(buckets) } },
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
  noSuchKmsKey: (keyId: string) =>
    new DirectoryError('NoSuchKmsKey', `Cannot find KMS key "${keyId}": it is not registered`),
  kmsKeyAlreadyExists: (keyId: string) =>
    new DirectoryError(
      'KmsKeyAlreadyExists',
      `Cannot register KMS key "${keyId}": the id is already used (ids are never reused)`,
    ),
  kmsKeyInUse: (keyId: string, bucket: string) =>
    new DirectoryError(
      'KmsKeyInUse',
      `Cannot remove KMS key "${keyId}": bucket "${bucket}" names it in its encryption configuration; change or delete that configuration first`,
      { details: { bucket } },
    ),
} as const
