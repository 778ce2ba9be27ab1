import { SovraError } from '../core/index.js'

/**
 * Codes the keys domain raises. Closed list: a retired code is never reused. The S3 face maps
 * them in `s3-api/errors.ts`; docs/keys.md suggests the AWS code for each.
 */
export const KEY_ERROR_CODES = [
  /** Ciphertext, header or segment order failed authentication: never serve the bytes. */
  'IntegrityFailure',
  /** A wrapped data key is malformed, tampered, or bound to another data center or bucket. */
  'InvalidWrappedKey',
  /** The key service refused (403, unknown token, data center not allowed). */
  'KeyAccessDenied',
  /** The key-encryption key does not exist (never created, deleted, or crypto-shredded). */
  'KeyNotFound',
  /** The key exists but may no longer decrypt (revoked via `min_decryption_version`). */
  'KeyDisabled',
  /** The key service could not be reached, timed out, or answered 5xx. */
  'KeyServiceUnavailable',
  /** The caller aborted the operation. */
  'Aborted',
  /** The data center's master key file is unreadable or not a 32-byte key. */
  'MasterKeyUnavailable',
  /** SSE-C: some of the three headers are present, not all. */
  'SseCHeadersIncomplete',
  /** SSE-C: the algorithm header is not `AES256`. */
  'SseCAlgorithmInvalid',
  /** SSE-C: the key is not base64 of exactly 32 bytes. */
  'SseCKeyInvalid',
  /** SSE-C: the key-MD5 header does not match the key. */
  'SseCKeyMd5Mismatch',
  /** SSE-C: the headers were sent over plain HTTP. */
  'SseCInsecureTransport',
  /** SSE-C: the object is SSE-C encrypted and the request carries no key. */
  'SseCKeyMissing',
  /** SSE-C: the key does not match the one the object was written with. */
  'SseCKeyMismatch',
  /** SSE-C: the request carries a key but the object is not SSE-C encrypted. */
  'SseCNotApplicable',
] as const
/** One of `KEY_ERROR_CODES`. */
export type KeyErrorCode = (typeof KEY_ERROR_CODES)[number]

/** The one error class of the keys domain; `code` is one of `KEY_ERROR_CODES`. */
export class KeyError extends SovraError<KeyErrorCode> {
  constructor(
    code: KeyErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('keys', code, message, options)
  }
}

/** True when `err` is a KeyError (optionally with the given code). */
export function isKeyError(err: unknown, code?: KeyErrorCode): err is KeyError {
  return err instanceof KeyError && (code === undefined || err.code === code)
}

const SSE_C_ARG = 'x-amz-server-side-encryption-customer-'

/** Factory table for every KeyError. Messages never contain key material. */
export const KeyErrors = {
  integrity: (what: string, reason: string, cause?: unknown, extra: Record<string, string> = {}) =>
    new KeyError('IntegrityFailure', `Cannot decrypt ${what}: ${reason}`, {
      cause,
      details: { ...extra, reason },
    }),
  invalidWrappedKey: (provider: string, reason: string, cause?: unknown) =>
    new KeyError('InvalidWrappedKey', `Cannot unwrap data key with "${provider}": ${reason}`, {
      cause,
      details: { provider },
    }),
  accessDenied: (provider: string, reason: string, cause?: unknown) =>
    new KeyError('KeyAccessDenied', `Key service "${provider}" refused access: ${reason}`, {
      cause,
      details: { provider },
    }),
  notFound: (provider: string, key: string, cause?: unknown) =>
    new KeyError('KeyNotFound', `Cannot use key "${key}" of "${provider}": it does not exist`, {
      cause,
      details: { provider, key },
    }),
  disabled: (provider: string, key: string, reason: string, cause?: unknown) =>
    new KeyError('KeyDisabled', `Cannot use key "${key}" of "${provider}": ${reason}`, {
      cause,
      details: { provider, key },
    }),
  unavailable: (provider: string, reason: string, cause?: unknown) =>
    new KeyError('KeyServiceUnavailable', `Key service "${provider}" is unavailable: ${reason}`, {
      cause,
      details: { provider },
    }),
  aborted: (provider: string, cause?: unknown) =>
    new KeyError('Aborted', `Key operation on "${provider}" was aborted`, {
      cause,
      details: { provider },
    }),
  masterKeyUnavailable: (path: string, reason: string, cause?: unknown) =>
    new KeyError('MasterKeyUnavailable', `Cannot load master key "${path}": ${reason}`, {
      cause,
      details: { path },
    }),
  sseCIncomplete: (missing: string) =>
    new KeyError(
      'SseCHeadersIncomplete',
      `Cannot use SSE-C: header "${missing}" is missing while the other SSE-C headers are present`,
      { details: { argumentName: missing } },
    ),
  sseCAlgorithm: (header: string, value: string) =>
    new KeyError('SseCAlgorithmInvalid', `Cannot use SSE-C: algorithm "${value}" is not "AES256"`, {
      details: { argumentName: header, argumentValue: value },
    }),
  sseCKeyInvalid: (header: string, reason: string) =>
    new KeyError('SseCKeyInvalid', `Cannot use SSE-C: the key ${reason}`, {
      details: { argumentName: header },
    }),
  sseCMd5Mismatch: (header: string) =>
    new KeyError(
      'SseCKeyMd5Mismatch',
      'Cannot use SSE-C: the MD5 of the key does not match the key-MD5 header',
      { details: { argumentName: header } },
    ),
  sseCInsecure: () =>
    new KeyError(
      'SseCInsecureTransport',
      'Cannot use SSE-C: customer keys must be sent over a secure connection',
    ),
  sseCMissing: () =>
    new KeyError(
      'SseCKeyMissing',
      'Cannot read object: it is SSE-C encrypted and the request carries no customer key',
      { details: { argumentName: `${SSE_C_ARG}key` } },
    ),
  sseCMismatch: () =>
    new KeyError(
      'SseCKeyMismatch',
      'Cannot read object: the customer key does not match the key it was written with',
    ),
  sseCNotApplicable: () =>
    new KeyError(
      'SseCNotApplicable',
      'Cannot use SSE-C: the object is not encrypted with a customer key',
    ),
} as const
