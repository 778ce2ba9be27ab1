import { createHash } from 'node:crypto'
import type { Logger } from '../core/index.js'
import {
  KeyError,
  KeyErrors,
  type KeyProvider,
  kmsKeyArn,
  parseKmsKeyArn,
  VaultTransitProvider,
} from '../keys/index.js'

/** A registered customer key as the cells need it: where it lives, its token, where it may be used. */
export interface CustomerKeySpec {
  readonly provider: 'vault-transit'
  readonly address: string
  readonly mount: string
  readonly keyName: string
  readonly namespace: string | null
  /** The key service token; null once the tenant removed the key. */
  readonly token: string | null
  /** Data center ids the key may be used in; null for any. */
  readonly dataCenters: readonly string[] | null
}

/** Looks a tenant's key up in the registry (the directory); null when it was never registered. */
export type CustomerKeyLookup = (tenantId: string, keyId: string) => Promise<CustomerKeySpec | null>

/**
 * The key provider of a customer KMS key named by its ARN, for use in data center `dc`. Throws
 * `KeyNotFound` (unknown key, or not allowed in `dc`) or `KeyDisabled` (removed by its tenant).
 * Injected into every cell by the composition root: cells never open the directory.
 */
export type CustomerKeyResolver = (kmsKeyArn: string, dc: string) => Promise<KeyProvider>

/** How long a registry answer is reused before the registry is asked again. */
const LOOKUP_TTL_MS = 1_000

interface Held {
  readonly fingerprint: string
  readonly spec: CustomerKeySpec | null
  readonly provider: VaultTransitProvider | null
  expires: number
}

/**
 * One `VaultTransitProvider` per registered key, shared by every cell of the process, so a data
 * key unwrapped for one read is in the DEK cache for the next (the cache id binds data center
 * and bucket, so sharing never crosses them). The registry is asked again at most once a second
 * per key; a key that changed or was removed drops its provider (and zeroes its cached data
 * keys) at once, and `forget` does so immediately for a change made in this process.
 */
export class CustomerKeyProviders {
  readonly #lookup: CustomerKeyLookup
  readonly #options: {
    readonly cacheTtlMs: number
    readonly cacheMaxEntries?: number
    readonly logger?: Logger
    readonly now: () => number
  }
  readonly #held = new Map<string, Held>()

  constructor(
    lookup: CustomerKeyLookup,
    options: {
      /** How long an unwrapped data key is reused (the revocation delay); 0 = never. */
      readonly cacheTtlMs: number
      readonly cacheMaxEntries?: number
      readonly logger?: Logger
      readonly now?: () => number
    },
  ) {
    this.#lookup = lookup
    this.#options = { ...options, now: options.now ?? Date.now }
  }

  /** The resolver to inject into cells. */
  readonly resolve: CustomerKeyResolver = async (arn, dc) => {
    const ref = parseKmsKeyArn(arn)
    if (ref === undefined) throw KeyErrors.notFound('vault-transit', arn)
    const held = await this.#current(ref.tenantId, ref.keyId)
    if (held.spec === null) throw KeyErrors.notFound('vault-transit', arn)
    if (held.provider === null) {
      throw KeyErrors.disabled('vault-transit', arn, 'its tenant removed it from the registry')
    }
    if (held.spec.dataCenters !== null && !held.spec.dataCenters.includes(dc)) {
      // As AWS answers for a key in another region: not found (here).
      throw new KeyError(
        'KeyNotFound',
        `Cannot use key "${arn}": its tenant allows it only in data centers "${held.spec.dataCenters.join(', ')}", not in "${dc}"`,
        { details: { provider: 'vault-transit', key: arn } },
      )
    }
    return held.provider
  }

  /** Drops the provider of a key (and its cached data keys) now: it was changed or removed. */
  forget(tenantId: string, keyId: string): void {
    const id = kmsKeyArn({ tenantId, keyId })
    this.#held.get(id)?.provider?.clearCache()
    this.#held.delete(id)
  }

  /** Drops every provider and cached data key (shutdown). */
  clear(): void {
    for (const held of this.#held.values()) held.provider?.clearCache()
    this.#held.clear()
  }

  async #current(tenantId: string, keyId: string): Promise<Held> {
    const id = kmsKeyArn({ tenantId, keyId })
    const now = this.#options.now()
    const held = this.#held.get(id)
    if (held !== undefined && held.expires > now) return held
    const spec = await this.#lookup(tenantId, keyId)
    const fingerprint = fingerprintOf(spec)
    if (held !== undefined && held.fingerprint === fingerprint) {
      held.expires = now + LOOKUP_TTL_MS
      return held
    }
    held?.provider?.clearCache()
    const fresh: Held = {
      fingerprint,
      spec,
      provider: spec?.token == null ? null : this.#providerOf(spec, spec.token),
      expires: now + LOOKUP_TTL_MS,
    }
    if (this.#held.size >= 10_000) this.clear()
    this.#held.set(id, fresh)
    return fresh
  }

  #providerOf(spec: CustomerKeySpec, token: string): VaultTransitProvider {
    return new VaultTransitProvider(
      {
        address: spec.address,
        mount: spec.mount,
        keyName: spec.keyName,
        token,
        ...(spec.namespace === null ? {} : { namespace: spec.namespace }),
        cacheTtlMs: this.#options.cacheTtlMs,
        ...(this.#options.cacheMaxEntries === undefined
          ? {}
          : { cacheMaxEntries: this.#options.cacheMaxEntries }),
      },
      this.#options.logger === undefined ? {} : { logger: this.#options.logger },
    )
  }
}

/** Whether two registry answers describe the same key (the token by its hash only). */
function fingerprintOf(spec: CustomerKeySpec | null): string {
  if (spec === null) return 'none'
  return createHash('sha256')
    .update(
      JSON.stringify([
        spec.provider,
        spec.address,
        spec.mount,
        spec.keyName,
        spec.namespace,
        spec.token,
        spec.dataCenters,
      ]),
    )
    .digest('hex')
}
