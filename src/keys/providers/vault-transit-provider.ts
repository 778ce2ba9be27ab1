import type { Logger } from '../../core/index.js'
import { isKeyError, type KeyError, KeyErrors } from '../key-error.js'
import {
  checkDek,
  encodeKeyContext,
  type KeyContext,
  type KeyProvider,
  type ReceiptSource,
  type SupportsKeyRotation,
  throwIfAborted,
  type WrappedKey,
  wrappedPayload,
} from '../key-provider.js'
import { DekCache } from './dek-cache.js'

/** Configuration of a bucket's Vault / OpenBao Transit key. */
export interface VaultTransitConfig {
  /** Base URL of the key service, for example `https://vault.example.com:8200`. */
  readonly address: string
  /** Transit mount path; default `transit`. */
  readonly mount?: string
  /** The Transit key; create it with `derived: true` so `context` binds dc and bucket. */
  readonly keyName: string
  /** Sent as `X-Vault-Token`. Never logged. */
  readonly token: string
  /** Sent as `X-Vault-Namespace` (Vault Enterprise, OpenBao) when set. */
  readonly namespace?: string
  /** Per-request timeout; default 5000 ms. */
  readonly timeoutMs?: number
  /** How long an unwrapped data key may be reused; default 60 000 ms. A revocation takes effect within it. */
  readonly cacheTtlMs?: number
  /** Most unwrapped data keys cached; default 1024. */
  readonly cacheMaxEntries?: number
}

export type { ReceiptSource }

/** The part of `fetch` this provider uses (tests may pass their own). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>

const NAME = 'vault-transit'
/** The Transit operations this provider calls. */
type TransitOp = 'encrypt' | 'decrypt' | 'rewrap' | 'rotate'
const DEFAULTS = { mount: 'transit', timeoutMs: 5_000, cacheTtlMs: 60_000, cacheMaxEntries: 1_024 }
/** What a Transit key name may look like (also checked where customers register one). */
export const TRANSIT_KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/
const KEY_NAME = TRANSIT_KEY_NAME_PATTERN

/**
 * Wraps data keys with a customer's HashiCorp Vault or OpenBao Transit key (or `sovra keyd`):
 * `encrypt` to wrap, `decrypt` to unwrap, with `context` = base64 of the canonical key context
 * (`encodeKeyContext`), so a wrapped key only opens for the same data center and bucket.
 *
 * A wrapped key is `vault-transit:v1:<keyName>:<Transit ciphertext "vault:vN:…">`.
 * Unwrapped keys are cached in memory (bounded in size and time); see `DekCache`. With
 * `receiptFor`, each decrypt carries the ledger receipt of the access event (log-before-decrypt);
 * a cached key is served without one, so under keyd's freshness bound the guarantee is "the first
 * access within the cache TTL was logged". A caller may pass its own `receiptFor` to `unwrap`
 * (the receipt of *its* access event); it takes precedence over the constructor's.
 *
 * Rotation: `rotate` calls `keys/<name>/rotate` (the token needs that capability; keyd grants it
 * to its admin token only, so with keyd the customer rotates and Sovra re-wraps), and `rewrap`
 * calls `rewrap/<name>` with the same context: the key service re-encrypts the data key under its
 * latest version inside, and the plaintext data key never crosses the network.
 */
export class VaultTransitProvider implements KeyProvider, SupportsKeyRotation {
  readonly name = NAME
  readonly #config: Readonly<
    Required<Omit<VaultTransitConfig, 'namespace'>> & { namespace?: string }
  >
  readonly #cache: DekCache
  readonly #fetch: FetchLike
  readonly #logger: Logger | undefined
  readonly #receiptFor: ReceiptSource | undefined
  readonly #inflight = new Map<string, Promise<Buffer>>()

  constructor(
    config: VaultTransitConfig,
    deps: {
      readonly logger?: Logger
      readonly fetch?: FetchLike
      readonly now?: () => number
      /** Log-before-decrypt: the receipt sent as `sovra_receipt` with each decrypt. */
      readonly receiptFor?: ReceiptSource
    } = {},
  ) {
    if (!KEY_NAME.test(config.keyName)) {
      throw new RangeError(`Transit key name "${config.keyName}" is not valid`)
    }
    const address = new URL(config.address)
    if (address.protocol !== 'https:' && address.protocol !== 'http:') {
      throw new RangeError(`Transit address "${config.address}" is not http(s)`)
    }
    this.#config = Object.freeze({
      ...DEFAULTS,
      ...config,
      address: config.address.replace(/\/+$/, ''),
      mount: (config.mount ?? DEFAULTS.mount).replace(/^\/+|\/+$/g, ''),
    })
    this.#cache = new DekCache(
      { maxEntries: this.#config.cacheMaxEntries, ttlMs: this.#config.cacheTtlMs },
      deps.now,
    )
    this.#fetch = deps.fetch ?? (globalThis.fetch as unknown as FetchLike)
    this.#logger = deps.logger
    this.#receiptFor = deps.receiptFor
  }

  async wrap(dek: Buffer, context: KeyContext, signal?: AbortSignal): Promise<WrappedKey> {
    checkDek(dek)
    throwIfAborted(NAME, signal)
    const data = await this.#call(
      'encrypt',
      {
        plaintext: dek.toString('base64'),
        context: encodeKeyContext(context).toString('base64'),
      },
      signal,
    )
    const ciphertext = data.ciphertext
    if (typeof ciphertext !== 'string' || !/^vault:v\d+:[A-Za-z0-9+/=]+$/.test(ciphertext)) {
      throw KeyErrors.unavailable(NAME, 'encrypt returned no valid ciphertext')
    }
    const wrapped = `${NAME}:v1:${this.#config.keyName}:${ciphertext}`
    this.#cache.set(DekCache.idOf(encodeKeyContext(context), wrapped), dek)
    return wrapped
  }

  async unwrap(
    wrapped: WrappedKey,
    context: KeyContext,
    signal?: AbortSignal,
    receiptFor?: ReceiptSource,
  ): Promise<Buffer> {
    throwIfAborted(NAME, signal)
    const ciphertext = this.#ciphertextOf(wrapped)
    const contextBytes = encodeKeyContext(context)
    const id = DekCache.idOf(contextBytes, wrapped)
    const cached = this.#cache.get(id)
    if (cached !== undefined) return cached
    // Concurrent cold reads of one object share one round trip.
    let pending = this.#inflight.get(id)
    if (pending === undefined) {
      // The shared call is bounded by the timeout only; each caller still honours its own signal.
      pending = this.#decrypt(
        ciphertext,
        context,
        receiptFor ?? this.#receiptFor,
        undefined,
      ).finally(() => this.#inflight.delete(id))
      this.#inflight.set(id, pending)
    }
    const dek = await abortable(pending, signal)
    this.#cache.set(id, dek)
    return Buffer.from(dek)
  }

  async rotate(context: KeyContext, signal?: AbortSignal): Promise<number | undefined> {
    throwIfAborted(NAME, signal)
    const data = await this.#call('rotate', {}, signal)
    // Newer Vault answers the key's description; older ones and keyd answer 204.
    const latest = data.latest_version
    this.#logger?.info(
      { provider: NAME, key: this.#config.keyName, dc: context.dc, bucket: context.bucket },
      'rotated Transit key',
    )
    return typeof latest === 'number' && Number.isInteger(latest) ? latest : undefined
  }

  async rewrap(
    wrapped: WrappedKey,
    context: KeyContext,
    signal?: AbortSignal,
  ): Promise<WrappedKey> {
    throwIfAborted(NAME, signal)
    const ciphertext = this.#ciphertextOf(wrapped)
    const data = await this.#call(
      'rewrap',
      { ciphertext, context: encodeKeyContext(context).toString('base64') },
      signal,
    )
    const next = data.ciphertext
    if (typeof next !== 'string' || !/^vault:v\d+:[A-Za-z0-9+/=]+$/.test(next)) {
      throw KeyErrors.unavailable(NAME, 'rewrap returned no valid ciphertext')
    }
    return `${NAME}:v1:${this.#config.keyName}:${next}`
  }

  keyVersionOf(wrapped: WrappedKey): number | undefined {
    const m = /^vault-transit:v1:([A-Za-z0-9_.-]+):vault:v(\d{1,9}):/.exec(wrapped)
    return m === null || m[1] !== this.#config.keyName ? undefined : Number(m[2])
  }

  /** Drops every cached data key (zeroed), for shutdown or an operator's "forget now". */
  clearCache(): void {
    this.#cache.clear()
  }

  /** The Transit ciphertext of one of this provider's wrapped keys (InvalidWrappedKey else). */
  #ciphertextOf(wrapped: WrappedKey): string {
    const payload = wrappedPayload(NAME, wrapped)
    const m = /^v1:([A-Za-z0-9_.-]+):(vault:v\d+:[A-Za-z0-9+/=]+)$/.exec(payload)
    if (m === null) throw KeyErrors.invalidWrappedKey(NAME, 'the wrapped key is malformed')
    if (m[1] !== this.#config.keyName) {
      throw KeyErrors.invalidWrappedKey(NAME, `the data key was wrapped by Transit key "${m[1]}"`)
    }
    return m[2] as string
  }

  async #decrypt(
    ciphertext: string,
    context: KeyContext,
    receiptFor: ReceiptSource | undefined,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const body: Record<string, string> = {
      ciphertext,
      context: encodeKeyContext(context).toString('base64'),
    }
    // A cached key needs no receipt: the receipt is fetched on a cache miss only.
    const receipt = await receiptFor?.(context, signal)
    if (receipt !== undefined) body.sovra_receipt = receipt
    const data = await this.#call('decrypt', body, signal)
    const dek =
      typeof data.plaintext === 'string' ? Buffer.from(data.plaintext, 'base64') : undefined
    if (dek?.length !== 32)
      throw KeyErrors.invalidWrappedKey(NAME, 'decrypt returned no 32-byte key')
    return dek
  }

  async #call(
    op: TransitOp,
    body: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> {
    const { address, mount, keyName, timeoutMs } = this.#config
    const name = encodeURIComponent(keyName)
    const path = op === 'rotate' ? `keys/${name}/rotate` : `${op}/${name}`
    const url = `${address}/v1/${mount}/${path}`
    const timeout = AbortSignal.timeout(timeoutMs)
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-vault-token': this.#config.token,
    }
    if (this.#config.namespace !== undefined) headers['x-vault-namespace'] = this.#config.namespace
    let status: number
    let text: string
    try {
      const res = await this.#fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: combined,
      })
      status = res.status
      text = await res.text()
    } catch (err) {
      if (signal?.aborted === true) throw KeyErrors.aborted(NAME, err)
      const reason = timeout.aborted ? `no answer within "${timeoutMs}" ms` : describe(err)
      this.#logger?.warn({ provider: NAME, op, address, reason }, 'key service unreachable')
      throw KeyErrors.unavailable(NAME, reason, err)
    }
    if (status === 200) {
      try {
        const parsed = JSON.parse(text) as { data?: unknown }
        if (typeof parsed.data === 'object' && parsed.data !== null) {
          return parsed.data as Record<string, unknown>
        }
      } catch {
        // fall through
      }
      throw KeyErrors.unavailable(NAME, `"${op}" answered 200 without a data object`)
    }
    if (status === 204 && op === 'rotate') return {}
    const error = mapError(op, keyName, status, errorsOf(text))
    this.#logger?.info({ provider: NAME, op, status, code: error.code }, 'key service refused')
    throw error
  }
}

/** Settles with `promise`, or rejects with 'Aborted' as soon as `signal` fires. */
async function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(KeyErrors.aborted(NAME, signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

function errorsOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errors?: unknown }
    if (Array.isArray(parsed.errors)) return parsed.errors.map(String).join('; ')
  } catch {
    // not JSON
  }
  return text.slice(0, 200)
}

/** Maps a Transit error answer to a KeyError (Vault puts the reason in `errors`). */
function mapError(op: TransitOp, keyName: string, status: number, message: string): KeyError {
  const said = message === '' ? `HTTP ${status}` : `HTTP ${status}: ${message}`
  if (status === 403 || status === 401) return KeyErrors.accessDenied(NAME, said)
  if (status === 404 || /key not found|no existing key|does not exist/i.test(message)) {
    return KeyErrors.notFound(NAME, keyName)
  }
  if (status === 400) {
    if (/disallowed by policy|too old|disabled|revoked/i.test(message)) {
      return KeyErrors.disabled(NAME, keyName, said)
    }
    if (op === 'decrypt' || op === 'rewrap') return KeyErrors.invalidWrappedKey(NAME, said)
  }
  return KeyErrors.unavailable(NAME, said)
}

function describe(err: unknown): string {
  if (isKeyError(err)) return err.message
  const cause = (err as { cause?: { code?: string } }).cause
  if (cause?.code !== undefined) return cause.code
  return err instanceof Error ? err.message : String(err)
}
