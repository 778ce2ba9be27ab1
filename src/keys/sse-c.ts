import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'
import { KeyErrors } from './key-error.js'
import {
  checkDek,
  encodeKeyContext,
  type KeyContext,
  type KeyProvider,
  throwIfAborted,
  type WrappedKey,
  wrappedPayload,
} from './key-provider.js'

/**
 * SSE-C (server-side encryption with customer-provided keys), the parts that do not depend on the
 * S3 face: header parsing and validation, the stored fingerprint, the read-time check, and a
 * per-request KeyProvider that wraps the object's data key under the customer's key.
 *
 * AWS behaviour, as we know it, for the S3 face's mapping (docs/keys.md has the table):
 * - headers over plain HTTP → 400 `InvalidRequest`;
 * - one or two of the three headers → 400 `InvalidArgument` (the key-MD5 is required);
 * - algorithm other than `AES256` → 400 `InvalidArgument` (MinIO answers
 *   `InvalidEncryptionAlgorithmError`; check against AWS before relying on either);
 * - key not base64 of 32 bytes → 400 `InvalidArgument`; key-MD5 mismatch → 400 `InvalidArgument`;
 * - GET/HEAD of an SSE-C object without the headers → 400 `InvalidRequest`;
 * - GET/HEAD with the wrong key → 403 `AccessDenied`;
 * - SSE-C headers on an object that is not SSE-C → 400 `InvalidRequest`.
 * Errors carry `details.argumentName` (and `argumentValue` for the algorithm) for the XML body.
 */

/** The request headers of SSE-C, lower-case as Node delivers them. */
export const SSE_C_HEADERS = {
  algorithm: 'x-amz-server-side-encryption-customer-algorithm',
  key: 'x-amz-server-side-encryption-customer-key',
  keyMd5: 'x-amz-server-side-encryption-customer-key-md5',
} as const

/** The CopyObject / UploadPartCopy headers naming the source object's customer key. */
export const SSE_C_COPY_SOURCE_HEADERS = {
  algorithm: 'x-amz-copy-source-server-side-encryption-customer-algorithm',
  key: 'x-amz-copy-source-server-side-encryption-customer-key',
  keyMd5: 'x-amz-copy-source-server-side-encryption-customer-key-md5',
} as const

/** A validated customer key. Never log it; `keyMd5` is what responses echo. */
export interface SseCKey {
  readonly algorithm: 'AES256'
  readonly key: Buffer
  /** base64 of MD5(key), as the client sent it. */
  readonly keyMd5: string
}

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>

/**
 * Reads the three SSE-C headers (or, with `copySource`, the copy-source ones). Returns undefined
 * when none is present; throws a KeyError when they are incomplete, invalid, or sent over an
 * insecure connection (`secure: false`).
 */
export function parseSseCHeaders(
  headers: HeaderBag,
  options: { readonly secure: boolean; readonly copySource?: boolean },
): SseCKey | undefined {
  const names = options.copySource === true ? SSE_C_COPY_SOURCE_HEADERS : SSE_C_HEADERS
  const algorithm = single(headers[names.algorithm])
  const key = single(headers[names.key])
  const keyMd5 = single(headers[names.keyMd5])
  if (algorithm === undefined && key === undefined && keyMd5 === undefined) return undefined
  if (!options.secure) throw KeyErrors.sseCInsecure()
  if (algorithm === undefined) throw KeyErrors.sseCIncomplete(names.algorithm)
  if (key === undefined) throw KeyErrors.sseCIncomplete(names.key)
  if (keyMd5 === undefined) throw KeyErrors.sseCIncomplete(names.keyMd5)
  if (algorithm !== 'AES256') throw KeyErrors.sseCAlgorithm(names.algorithm, algorithm)
  if (!/^[A-Za-z0-9+/]{43}=$/.test(key)) {
    throw KeyErrors.sseCKeyInvalid(names.key, 'is not the base64 of 32 bytes')
  }
  const raw = Buffer.from(key, 'base64')
  if (raw.length !== 32) throw KeyErrors.sseCKeyInvalid(names.key, 'is not the base64 of 32 bytes')
  const expected = createHash('md5').update(raw).digest()
  const given = /^[A-Za-z0-9+/]{22}==$/.test(keyMd5)
    ? Buffer.from(keyMd5, 'base64')
    : Buffer.alloc(0)
  if (given.length !== 16 || !timingSafeEqual(given, expected)) {
    throw KeyErrors.sseCMd5Mismatch(names.keyMd5)
  }
  return { algorithm: 'AES256', key: raw, keyMd5 }
}

/** The headers a response to an SSE-C request carries, as AWS sends them. */
export function sseCResponseHeaders(key: SseCKey): Record<string, string> {
  return {
    [SSE_C_HEADERS.algorithm]: key.algorithm,
    [SSE_C_HEADERS.keyMd5]: key.keyMd5,
  }
}

const FINGERPRINT_PREFIX = 'sse-c-hmac-v1'
const FINGERPRINT_LABEL = Buffer.from('sovra/sse-c/fingerprint/v1\0', 'ascii')

/**
 * What to store with an SSE-C object instead of the key: `sse-c-hmac-v1:<salt>:<mac>` (base64url),
 * mac = HMAC-SHA256(customer key, label ‖ 16-byte random salt). It recognises the right key on a
 * later read without revealing anything about it; the salt makes equal keys on two objects
 * unlinkable.
 */
export function sseCFingerprint(key: SseCKey): string {
  const salt = randomBytes(16)
  return `${FINGERPRINT_PREFIX}:${salt.toString('base64url')}:${mac(key.key, salt).toString('base64url')}`
}

/** True when `key` is the key `fingerprint` was made from (constant time). */
export function matchesSseCFingerprint(fingerprint: string, key: SseCKey): boolean {
  const [prefix, salt, stored, extra] = fingerprint.split(':')
  if (
    prefix !== FINGERPRINT_PREFIX ||
    salt === undefined ||
    stored === undefined ||
    extra !== undefined
  ) {
    return false
  }
  const expected = Buffer.from(stored, 'base64url')
  const actual = mac(key.key, Buffer.from(salt, 'base64url'))
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/**
 * The read-time decision for GET, HEAD and copy sources: `stored` is the object's fingerprint
 * (undefined when it is not SSE-C), `presented` what the request carried. Throws SseCKeyMissing,
 * SseCKeyMismatch or SseCNotApplicable; returns when the read may go on.
 */
export function checkSseCForRead(stored: string | undefined, presented: SseCKey | undefined): void {
  if (stored === undefined) {
    if (presented !== undefined) throw KeyErrors.sseCNotApplicable()
    return
  }
  if (presented === undefined) throw KeyErrors.sseCMissing()
  if (!matchesSseCFingerprint(stored, presented)) throw KeyErrors.sseCMismatch()
}

/**
 * A per-request KeyProvider for SSE-C objects: the object's data key is wrapped with AES-256-GCM
 * under the customer's key (AAD = label ‖ canonical context), so the envelope format is the same
 * for every provider and the customer's key never touches the disk.
 * The provider acts for `options.dc` and refuses contexts of other data centers.
 * Wrapped key: `sse-c:v1:<base64url(nonce ‖ ciphertext ‖ tag)>`.
 */
export function createSseCKeyProvider(
  customerKey: SseCKey,
  options: { readonly dc: string },
): KeyProvider {
  const key = Buffer.from(customerKey.key)
  const name = 'sse-c'
  // Like every provider, it acts for one data center: the one serving the request.
  const checkDc = (context: KeyContext) => {
    if (context.dc !== options.dc) {
      throw KeyErrors.accessDenied(
        name,
        `data center "${options.dc}" cannot use a key bound to "${context.dc}"`,
      )
    }
  }
  const aad = (context: KeyContext) =>
    Buffer.concat([Buffer.from('sovra/sse-c/dek/v1\0', 'ascii'), encodeKeyContext(context)])
  return {
    name,
    wrap: async (dek, context, signal) => {
      checkDek(dek)
      throwIfAborted(name, signal)
      checkDc(context)
      const nonce = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, nonce)
      cipher.setAAD(aad(context))
      const body = Buffer.concat([cipher.update(dek), cipher.final()])
      return `${name}:v1:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`
    },
    unwrap: async (wrapped: WrappedKey, context, signal) => {
      throwIfAborted(name, signal)
      const m = /^v1:([A-Za-z0-9_-]+)$/.exec(wrappedPayload(name, wrapped))
      const blob = m === null ? Buffer.alloc(0) : Buffer.from(m[1] as string, 'base64url')
      if (blob.length !== 12 + 32 + 16)
        throw KeyErrors.invalidWrappedKey(name, 'the wrapped key is malformed')
      checkDc(context)
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12))
        decipher.setAAD(aad(context))
        decipher.setAuthTag(blob.subarray(44))
        return Buffer.concat([decipher.update(blob.subarray(12, 44)), decipher.final()])
      } catch (err) {
        throw KeyErrors.invalidWrappedKey(name, 'the customer key or context does not match', err)
      }
    },
  }
}

function mac(key: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', key).update(FINGERPRINT_LABEL).update(salt).digest()
}

function single(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  // A repeated header is ambiguous: treat it as one malformed value, never pick one.
  return value.length === 1 ? value[0] : value.join(',')
}
