import { KeyErrors } from './key-error.js'

/** Where a data key is used: the data center and bucket every wrapped key is bound to. */
export interface KeyContext {
  readonly dc: string
  readonly bucket: string
}

/**
 * A wrapped data key: `<provider name>:<provider payload>`, printable ASCII, safe to store in
 * object metadata. Each provider versions its own payload (`dc:v1:…`, `vault-transit:v1:…`).
 */
export type WrappedKey = string

/**
 * Supplies the ledger receipt (c2sp.org/tlog-proof) of the access event that needs a data key,
 * for a key service with log-before-decrypt (`sovra keyd`). A provider calls it only when it must
 * ask the key service (not for a cached key); undefined sends no receipt. Its errors fail the
 * unwrap.
 */
export type ReceiptSource = (
  context: KeyContext,
  signal?: AbortSignal,
) => Promise<string | undefined>

/**
 * Where a bucket's key-encryption key lives. It wraps a fresh per-object data key before the
 * object is stored and unwraps it to read; a wrapped key only unwraps with the same `context`.
 * Errors are `KeyError`s: 'InvalidWrappedKey' for a tampered or foreign key, 'KeyNotFound',
 * 'KeyDisabled', 'KeyAccessDenied', 'KeyServiceUnavailable', 'Aborted'.
 */
export interface KeyProvider {
  /** The provider's name, also the prefix of every `WrappedKey` it returns. */
  readonly name: string
  /** Wraps a 32-byte data key for `context`. */
  wrap(dek: Buffer, context: KeyContext, signal?: AbortSignal): Promise<WrappedKey>
  /**
   * Unwraps a data key; refuses one wrapped for another context or by another provider.
   * `receiptFor` is this access's ledger receipt, for providers whose key service requires one
   * (log-before-decrypt); providers that need none ignore it.
   */
  unwrap(
    wrapped: WrappedKey,
    context: KeyContext,
    signal?: AbortSignal,
    receiptFor?: ReceiptSource,
  ): Promise<Buffer>
}

/**
 * Optional capability: rotate a bucket's key-encryption key and re-wrap data keys under it.
 * Rotation never re-encrypts object bytes: the data keys stay, only their wrapping changes.
 */
export interface SupportsKeyRotation {
  /**
   * Makes a new key version current for `context`; old versions still unwrap. Resolves with the
   * new version when the key service tells it, else undefined.
   */
  rotate(context: KeyContext, signal?: AbortSignal): Promise<number | undefined>
  /**
   * Re-wraps under the current key version without exposing the data key to the caller (a key
   * service does it inside; the `dc` provider unwraps and wraps in memory and zeroes the key).
   */
  rewrap(wrapped: WrappedKey, context: KeyContext, signal?: AbortSignal): Promise<WrappedKey>
  /** The key version a wrapped key of this provider names; undefined for anything else. */
  keyVersionOf(wrapped: WrappedKey): number | undefined
}

/** Optional capability: crypto-shredding of a bucket's key. */
export interface SupportsKeyDestruction {
  /** Destroys the bucket's key-encryption keys: its wrapped data keys never unwrap again. */
  destroyBucketKey(bucket: string, signal?: AbortSignal): Promise<void>
}

/** True when the provider can rotate and re-wrap. */
export function supportsKeyRotation(p: KeyProvider): p is KeyProvider & SupportsKeyRotation {
  const candidate = p as Partial<SupportsKeyRotation>
  return (
    typeof candidate.rotate === 'function' &&
    typeof candidate.rewrap === 'function' &&
    typeof candidate.keyVersionOf === 'function'
  )
}

/** True when the provider can destroy a bucket's key. */
export function supportsKeyDestruction(p: KeyProvider): p is KeyProvider & SupportsKeyDestruction {
  return typeof (p as Partial<SupportsKeyDestruction>).destroyBucketKey === 'function'
}

/** Longest wrapped key accepted: metadata stays small and parsing stays cheap. */
export const MAX_WRAPPED_KEY_LENGTH = 2_048

/** The payload of `wrapped` after `<provider>:`; refuses another provider's or a malformed key. */
export function wrappedPayload(provider: string, wrapped: WrappedKey): string {
  if (
    typeof wrapped !== 'string' ||
    wrapped.length > MAX_WRAPPED_KEY_LENGTH ||
    !/^[\x21-\x7e]+$/.test(wrapped)
  ) {
    throw KeyErrors.invalidWrappedKey(provider, 'the wrapped key is malformed')
  }
  const prefix = `${provider}:`
  if (!wrapped.startsWith(prefix)) {
    throw KeyErrors.invalidWrappedKey(
      provider,
      `the wrapped key belongs to provider "${wrapped.split(':', 1)[0] ?? ''}"`,
    )
  }
  return wrapped.slice(prefix.length)
}

/**
 * The canonical bytes of a key context: RFC 8785 canonical JSON `{"bucket":…,"dc":…,"v":1}`
 * (keys sorted, strings as ES `JSON.stringify` writes them). Sent as Transit's `context` and
 * read back by keyd, so it must stay byte-stable: a new shape gets a new `v`.
 */
export function encodeKeyContext(context: KeyContext): Buffer {
  return Buffer.from(
    `{"bucket":${JSON.stringify(context.bucket)},"dc":${JSON.stringify(context.dc)},"v":1}`,
    'utf8',
  )
}

/** Parses `encodeKeyContext` output; returns undefined for anything else (not canonical too). */
export function decodeKeyContext(bytes: Buffer): KeyContext | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { bucket, dc, v } = parsed as Record<string, unknown>
  if (typeof bucket !== 'string' || typeof dc !== 'string' || v !== 1) return undefined
  const context = { dc, bucket }
  return encodeKeyContext(context).equals(bytes) ? context : undefined
}

/** Throws 'Aborted' when the signal already fired. */
export function throwIfAborted(provider: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw KeyErrors.aborted(provider, signal.reason)
}

/** Checks a data key's length (a programming error otherwise). */
export function checkDek(dek: Buffer): void {
  if (!Buffer.isBuffer(dek) || dek.length !== 32) {
    throw new RangeError(
      `Data key must be "32" bytes: got "${Buffer.isBuffer(dek) ? dek.length : typeof dek}"`,
    )
  }
}
