import type { SigV4ErrorCode } from '../access/index.js'
import { SovraError } from '../core/index.js'
import type { DirectoryErrorCode } from '../directory/index.js'
import type { KeyErrorCode } from '../keys/index.js'
import type { ResidencyErrorCode } from '../residency/index.js'
import { AdminError, type AdminErrorCode, type ValidationIssue } from './admin-error.js'

/**
 * THE admin face's mapping from a domain code to its HTTP status (STYLE.md habit 12). The JSON
 * body's `code` is the domain code itself, so the admin API and the CLI speak the same codes as
 * docs/errors.md; a status of 500 or more hides the message and sends `InternalError`.
 */
const ADMIN = {
  ValidationFailed: 400,
  InvalidJson: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  InternalError: 500,
  KeyRotationInProgress: 409,
  KeyRotationUnsupported: 409,
  NoSuchKeyRotation: 404,
  DataCenterNotServed: 409,
} as const satisfies Record<AdminErrorCode, number>

/** Directory codes: the catalog's conflicts are 409, unknown things 404. */
const DIRECTORY = {
  NoSuchTenant: 404,
  TenantAlreadyExists: 409,
  NoSuchAccessKey: 404,
  AccessKeyAlreadyExists: 409,
  InvalidAccessKey: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  NoSuchBucket: 404,
  NoSuchDataCenter: 404,
  InvalidArgument: 400,
  SecretsUnavailable: 500,
  UnsupportedSchemaVersion: 500,
  DataCenterAlreadyExists: 409,
  PortInUse: 409,
  UnknownJurisdiction: 400,
  InvalidStatusTransition: 409,
  DataCenterNotEmpty: 409,
  NoSuchSigningKey: 404,
  SigningKeyAlreadyExists: 409,
  InstructionNonceUsed: 409,
  NoSuchTransfer: 404,
  NoSuchKmsKey: 404,
  KmsKeyAlreadyExists: 409,
  KmsKeyInUse: 409,
} as const satisfies Record<DirectoryErrorCode, number>

/**
 * The transfer gate's refusals keep their precise code: a malformed document or key is 400; what
 * the instruction does not authorise (key, signature, validity window, scope, export rule) is
 * 403; what contradicts the current state (a spent nonce, a bucket or data center that is not
 * where or what the instruction says) is 409. Server faults are 500.
 */
const RESIDENCY = {
  InstructionMalformed: 400,
  InstructionSignatureInvalid: 403,
  InstructionKeyUnknown: 403,
  InstructionKeyRevoked: 403,
  InstructionNotYetValid: 403,
  InstructionExpired: 403,
  InstructionReplayed: 409,
  InstructionScopeMismatch: 403,
  InstructionBucketMismatch: 409,
  NoSuchDataCenter: 409,
  DataCenterNotActive: 409,
  ExportBasisRequired: 403,
  ExportBasisNotAccepted: 403,
  ExportDestinationRestricted: 403,
  ExportRuleMissing: 403,
  ExportRulesInvalid: 500,
  TransferNotCovered: 403,
  TransferVerificationFailed: 500,
  DataCenterUnavailable: 500,
  SigningKeyInvalid: 400,
  SigningKeyIsPrivate: 400,
} as const satisfies Record<ResidencyErrorCode, number>

/** SigV4 codes (tenant authentication): a signature that does not prove the key is 401. */
const SIGV4 = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidAccessKeyId: 401,
  SignatureDoesNotMatch: 401,
  RequestTimeTooSkewed: 401,
  RequestExpired: 401,
  MissingSecurityHeader: 400,
  XAmzContentSHA256Mismatch: 400,
  InvalidRequest: 400,
  IncompleteBody: 400,
  InvalidChunkSizeError: 400,
  MalformedTrailerError: 400,
  InvalidArgument: 400,
} as const satisfies Record<SigV4ErrorCode, number>

/** Key codes a key rotation may meet (the customer's key service refusing to rotate). */
const KEYS = {
  KeyAccessDenied: 403,
  KeyDisabled: 403,
  KeyNotFound: 404,
} as const satisfies Partial<Record<KeyErrorCode, number>>

const DOMAINS: Record<string, Record<string, number>> = {
  admin: ADMIN,
  directory: DIRECTORY,
  residency: RESIDENCY,
  sigv4: SIGV4,
  keys: KEYS,
}

/** The JSON body of every admin error. */
export interface AdminErrorBody {
  readonly code: string
  readonly message: string
  /** For `ValidationFailed`: each failed check, its path starting with `params`, `query` or `body`. */
  readonly issues?: readonly ValidationIssue[]
}

/** An error as the admin face sends it. */
export interface AdminWireError {
  readonly status: number
  readonly body: AdminErrorBody
  /** True for server faults: log the cause at `error`, never send it. */
  readonly internal: boolean
  readonly details: Readonly<Record<string, string>>
}

const INTERNAL: AdminWireError = {
  status: 500,
  body: { code: 'InternalError', message: 'Internal error: see the server log for the request id' },
  internal: true,
  details: {},
}

/** Maps any error to its admin wire form; unknown errors become a 500 `InternalError`. */
export function toAdminError(err: unknown): AdminWireError {
  if (!(err instanceof SovraError)) return INTERNAL
  const status = DOMAINS[err.domain]?.[err.code]
  if (status === undefined || status >= 500) return INTERNAL
  const issues = err instanceof AdminError && err.issues.length > 0 ? { issues: err.issues } : {}
  return {
    status,
    body: { code: err.code, message: err.message, ...issues },
    internal: false,
    details: err.details,
  }
}

/** Every `code` the admin face can send, with its status (docs/errors.md is checked against it). */
export function allAdminErrorCodes(): ReadonlyArray<{
  readonly domain: string
  readonly code: string
  readonly status: number
}> {
  const out: Array<{ domain: string; code: string; status: number }> = []
  for (const [domain, table] of Object.entries(DOMAINS)) {
    for (const [code, status] of Object.entries(table)) out.push({ domain, code, status })
  }
  return out
}
