import type { SigV4ErrorCode } from '../access/index.js'
import type { BlobErrorCode } from '../blob/index.js'
import { SovraError } from '../core/index.js'
import type { DirectoryErrorCode } from '../directory/index.js'
import type { KeyErrorCode } from '../keys/index.js'
import type { LedgerErrorCode } from '../ledger/index.js'
import type { MetaErrorCode } from '../meta/index.js'
import type { ResidencyErrorCode } from '../residency/index.js'
import type { S3ProtocolCode } from './s3-error.js'

/** An S3 wire error: the code clients switch on and its HTTP status. */
export interface S3WireError {
  readonly code: string
  readonly status: number
}

const e = (code: string, status: number): S3WireError => ({ code, status })

/** Status of every error the S3 face raises itself. */
const PROTOCOL = {
  AccessControlListNotSupported: e('AccessControlListNotSupported', 400),
  AccessDenied: e('AccessDenied', 403),
  AccessForbidden: e('AccessForbidden', 403),
  BadDigest: e('BadDigest', 400),
  BadRequest: e('BadRequest', 400),
  BucketAlreadyExists: e('BucketAlreadyExists', 409),
  BucketAlreadyOwnedByYou: e('BucketAlreadyOwnedByYou', 409),
  EntityTooLarge: e('EntityTooLarge', 400),
  EntityTooSmall: e('EntityTooSmall', 400),
  IllegalLocationConstraintException: e('IllegalLocationConstraintException', 400),
  IncompleteBody: e('IncompleteBody', 400),
  IncorrectNumberOfFilesInPostRequest: e('IncorrectNumberOfFilesInPostRequest', 400),
  InvalidArgument: e('InvalidArgument', 400),
  InvalidBucketAclWithObjectOwnership: e('InvalidBucketAclWithObjectOwnership', 400),
  InvalidBucketName: e('InvalidBucketName', 400),
  InvalidBucketState: e('InvalidBucketState', 409),
  InvalidDigest: e('InvalidDigest', 400),
  InvalidPart: e('InvalidPart', 400),
  InvalidPartNumber: e('InvalidPartNumber', 416),
  InvalidPartOrder: e('InvalidPartOrder', 400),
  InvalidPolicyDocument: e('InvalidPolicyDocument', 400),
  InvalidRange: e('InvalidRange', 416),
  InvalidRequest: e('InvalidRequest', 400),
  InvalidTag: e('InvalidTag', 400),
  InvalidURI: e('InvalidURI', 400),
  KeyTooLongError: e('KeyTooLongError', 400),
  MalformedACLError: e('MalformedACLError', 400),
  MalformedPolicy: e('MalformedPolicy', 400),
  MalformedPOSTRequest: e('MalformedPOSTRequest', 400),
  MalformedXML: e('MalformedXML', 400),
  MaxPostPreDataLengthExceeded: e('MaxPostPreDataLengthExceeded', 400),
  MetadataTooLarge: e('MetadataTooLarge', 400),
  MethodNotAllowed: e('MethodNotAllowed', 405),
  MissingContentLength: e('MissingContentLength', 411),
  MissingRequestBodyError: e('MissingRequestBodyError', 400),
  NoSuchBucket: e('NoSuchBucket', 404),
  NoSuchBucketPolicy: e('NoSuchBucketPolicy', 404),
  NoSuchCORSConfiguration: e('NoSuchCORSConfiguration', 404),
  NoSuchKey: e('NoSuchKey', 404),
  NoSuchLifecycleConfiguration: e('NoSuchLifecycleConfiguration', 404),
  NoSuchObjectLockConfiguration: e('NoSuchObjectLockConfiguration', 404),
  NoSuchPublicAccessBlockConfiguration: e('NoSuchPublicAccessBlockConfiguration', 404),
  NoSuchTagSet: e('NoSuchTagSet', 404),
  NoSuchUpload: e('NoSuchUpload', 404),
  NoSuchVersion: e('NoSuchVersion', 404),
  NotImplemented: e('NotImplemented', 501),
  ObjectLockConfigurationNotFoundError: e('ObjectLockConfigurationNotFoundError', 404),
  OwnershipControlsNotFoundError: e('OwnershipControlsNotFoundError', 404),
  PolicyTooLarge: e('PolicyTooLarge', 400),
  PreconditionFailed: e('PreconditionFailed', 412),
  RequestHeaderSectionTooLarge: e('RequestHeaderSectionTooLarge', 400),
  UnexpectedContent: e('UnexpectedContent', 400),
  UnresolvableGrantByEmailAddress: e('UnresolvableGrantByEmailAddress', 400),
  InternalError: e('InternalError', 500),
  SlowDown: e('SlowDown', 503),
} as const satisfies Record<S3ProtocolCode, S3WireError>

/** Metadata store codes. */
const META = {
  BucketAlreadyExists: e('BucketAlreadyExists', 409),
  NoSuchBucket: e('NoSuchBucket', 404),
  BucketNotEmpty: e('BucketNotEmpty', 409),
  NoSuchUpload: e('NoSuchUpload', 404),
  NoSuchKey: e('NoSuchKey', 404),
  NoSuchVersion: e('NoSuchVersion', 404),
  ObjectLocked: e('AccessDenied', 403),
  PreconditionFailed: e('PreconditionFailed', 412),
  ConditionalRequestConflict: e('ConditionalRequestConflict', 409),
  StoreClosed: e('ServiceUnavailable', 503),
} as const satisfies Record<MetaErrorCode, S3WireError>

/** SigV4 verification codes. */
const SIGV4 = {
  AccessDenied: e('AccessDenied', 403),
  AuthorizationHeaderMalformed: e('AuthorizationHeaderMalformed', 400),
  AuthorizationQueryParametersError: e('AuthorizationQueryParametersError', 400),
  InvalidAccessKeyId: e('InvalidAccessKeyId', 403),
  SignatureDoesNotMatch: e('SignatureDoesNotMatch', 403),
  RequestTimeTooSkewed: e('RequestTimeTooSkewed', 403),
  RequestExpired: e('AccessDenied', 403),
  MissingSecurityHeader: e('MissingSecurityHeader', 400),
  XAmzContentSHA256Mismatch: e('XAmzContentSHA256Mismatch', 400),
  InvalidRequest: e('InvalidRequest', 400),
  IncompleteBody: e('IncompleteBody', 400),
  InvalidChunkSizeError: e('InvalidChunkSizeError', 403),
  MalformedTrailerError: e('MalformedTrailerError', 400),
  InvalidArgument: e('InvalidArgument', 400),
} as const satisfies Record<SigV4ErrorCode, S3WireError>

/** Directory codes. */
const DIRECTORY = {
  NoSuchTenant: e('AccessDenied', 403),
  TenantAlreadyExists: e('InvalidRequest', 400),
  NoSuchAccessKey: e('InvalidAccessKeyId', 403),
  AccessKeyAlreadyExists: e('InvalidRequest', 400),
  InvalidAccessKey: e('InvalidAccessKeyId', 403),
  BucketAlreadyExists: e('BucketAlreadyExists', 409),
  BucketAlreadyOwnedByYou: e('BucketAlreadyOwnedByYou', 409),
  NoSuchBucket: e('NoSuchBucket', 404),
  NoSuchDataCenter: e('InvalidRequest', 400),
  InvalidArgument: e('InvalidArgument', 400),
  SecretsUnavailable: e('InternalError', 500),
  UnsupportedSchemaVersion: e('InternalError', 500),
  // Catalog changes come through the admin API; the S3 face never raises these.
  DataCenterAlreadyExists: e('InvalidRequest', 400),
  PortInUse: e('InvalidRequest', 400),
  UnknownJurisdiction: e('InvalidArgument', 400),
  InvalidStatusTransition: e('InvalidRequest', 400),
  DataCenterNotEmpty: e('InvalidRequest', 400),
  NoSuchSigningKey: e('AccessDenied', 403),
  SigningKeyAlreadyExists: e('InvalidRequest', 400),
  InstructionNonceUsed: e('AccessDenied', 403),
  NoSuchTransfer: e('AccessDenied', 403),
  // KMS keys are managed through the admin API; the S3 face never raises these.
  NoSuchKmsKey: e('KMS.NotFoundException', 400),
  KmsKeyAlreadyExists: e('InvalidRequest', 400),
  KmsKeyInUse: e('InvalidRequest', 400),
} as const satisfies Record<DirectoryErrorCode, S3WireError>

/** Transfer gate refusals: every one is a denial (the message names the failed check). */
const RESIDENCY = {
  InstructionMalformed: e('AccessDenied', 403),
  InstructionSignatureInvalid: e('AccessDenied', 403),
  InstructionKeyUnknown: e('AccessDenied', 403),
  InstructionKeyRevoked: e('AccessDenied', 403),
  InstructionNotYetValid: e('AccessDenied', 403),
  InstructionExpired: e('AccessDenied', 403),
  InstructionReplayed: e('AccessDenied', 403),
  InstructionScopeMismatch: e('AccessDenied', 403),
  InstructionBucketMismatch: e('AccessDenied', 403),
  NoSuchDataCenter: e('AccessDenied', 403),
  DataCenterNotActive: e('AccessDenied', 403),
  ExportBasisRequired: e('AccessDenied', 403),
  ExportBasisNotAccepted: e('AccessDenied', 403),
  ExportDestinationRestricted: e('AccessDenied', 403),
  ExportRuleMissing: e('AccessDenied', 403),
  ExportRulesInvalid: e('InternalError', 500),
  TransferNotCovered: e('AccessDenied', 403),
  TransferVerificationFailed: e('InternalError', 500),
  DataCenterUnavailable: e('ServiceUnavailable', 503),
  SigningKeyInvalid: e('InvalidArgument', 400),
  SigningKeyIsPrivate: e('InvalidArgument', 400),
} as const satisfies Record<ResidencyErrorCode, S3WireError>

/** Blob store codes: a failing source is the client's body; the rest are internal. */
const BLOB = {
  NotFound: e('InternalError', 500),
  WriteFailed: e('InternalError', 500),
  SourceFailed: e('IncompleteBody', 400),
  Aborted: e('RequestTimeout', 400),
  StoreClosed: e('ServiceUnavailable', 503),
} as const satisfies Record<BlobErrorCode, S3WireError>

/** Ledger codes: a full backlog pushes back; everything else is a server fault. */
const LEDGER = {
  Pushback: e('SlowDown', 503),
  Closed: e('ServiceUnavailable', 503),
  Aborted: e('InternalError', 500),
  OutOfRange: e('InternalError', 500),
  NotFound: e('InternalError', 500),
  Corrupt: e('InternalError', 500),
  StorageFailed: e('InternalError', 500),
  EntryTooLarge: e('InternalError', 500),
  ConfigInvalid: e('InternalError', 500),
  MalformedNote: e('InternalError', 500),
  UnverifiedNote: e('InternalError', 500),
  InvalidSignature: e('InternalError', 500),
  AmbiguousKey: e('InternalError', 500),
  InvalidKey: e('InternalError', 500),
} as const satisfies Record<LedgerErrorCode, S3WireError>

/**
 * Key codes. A ciphertext or wrapped key that fails authentication is a server fault (500,
 * reported to the operator and the ledger); SSE-C mistakes are the client's, as AWS answers them.
 */
const KEYS = {
  IntegrityFailure: e('InternalError', 500),
  InvalidWrappedKey: e('InternalError', 500),
  KeyAccessDenied: e('AccessDenied', 403),
  // A customer KMS key that is unknown (or not allowed here) or disabled: AWS S3 answers these
  // with the KMS error's name, prefixed `KMS.`, and 400.
  KeyNotFound: e('KMS.NotFoundException', 400),
  KeyDisabled: e('KMS.DisabledException', 400),
  KeyServiceUnavailable: e('ServiceUnavailable', 503),
  Aborted: e('RequestTimeout', 400),
  MasterKeyUnavailable: e('InternalError', 500),
  SseCHeadersIncomplete: e('InvalidArgument', 400),
  SseCAlgorithmInvalid: e('InvalidArgument', 400),
  SseCKeyInvalid: e('InvalidArgument', 400),
  SseCKeyMd5Mismatch: e('InvalidArgument', 400),
  SseCInsecureTransport: e('InvalidRequest', 400),
  SseCKeyMissing: e('InvalidRequest', 400),
  SseCKeyMismatch: e('AccessDenied', 403),
  SseCNotApplicable: e('InvalidRequest', 400),
} as const satisfies Record<KeyErrorCode, S3WireError>

const DOMAINS: Record<string, Record<string, S3WireError>> = {
  s3: PROTOCOL,
  meta: META,
  sigv4: SIGV4,
  directory: DIRECTORY,
  blob: BLOB,
  ledger: LEDGER,
  keys: KEYS,
  residency: RESIDENCY,
}

const INTERNAL = PROTOCOL.InternalError

/** Domain errors whose S3 message is AWS's own text rather than the domain's (`domain:code`). */
const AWS_MESSAGES: Readonly<Record<string, string>> = {
  'meta:ObjectLocked': 'Access Denied because object protected by object lock.',
}

/**
 * THE mapping from any error to its S3 wire form. Unknown errors and unmapped domain codes become
 * `InternalError` 500 with a fixed message; the caller logs the cause.
 */
export function toS3Error(err: unknown): S3WireError & {
  readonly message: string
  readonly internal: boolean
  readonly details: Readonly<Record<string, string>>
} {
  if (err instanceof SovraError) {
    const wire = DOMAINS[err.domain]?.[err.code]
    if (wire !== undefined && wire.status < 500) {
      const message = AWS_MESSAGES[`${err.domain}:${err.code}`] ?? err.message
      return { ...wire, message, internal: false, details: err.details }
    }
    // Server-side failures keep their code and status but never show internal messages.
    if (wire !== undefined)
      return {
        ...wire,
        message: 'We encountered an internal error. Please try again.',
        internal: true,
        details: {},
      }
  }
  return {
    ...INTERNAL,
    message: 'We encountered an internal error. Please try again.',
    internal: true,
    details: {},
  }
}

/** Every S3 error code this server can send (docs and tests read it). */
export function allS3ErrorCodes(): string[] {
  const codes = new Set<string>()
  for (const table of Object.values(DOMAINS))
    for (const wire of Object.values(table)) codes.add(wire.code)
  codes.add('PermanentRedirect')
  return [...codes].sort()
}
