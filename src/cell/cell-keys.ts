import type { Logger } from '../core/index.js'
import {
  type BucketExists,
  createSseCKeyProvider,
  DcKeyProvider,
  KeyErrors,
  type KeyProvider,
  type SseCKey,
  supportsKeyDestruction,
  type WrappedKey,
} from '../keys/index.js'
import type { BucketEncryption } from '../meta/index.js'

/**
 * Which key provider protects a data key, chosen per bucket. Today every bucket uses the data
 * center's own provider (`dc`) and SSE-C requests bring their own key; a bucket whose default
 * encryption names a customer key service (vault-transit) gets its provider here, nowhere else.
 */
export interface CellKeys {
  /** The data center's own provider: a master key in its folder, one KEK per bucket. */
  readonly dc: KeyProvider
  /** The provider that wraps new data keys of a bucket (`customerKey`: SSE-C for this request). */
  wrapperFor(options: {
    readonly bucket: string
    readonly encryption: BucketEncryption | null
    readonly customerKey: SseCKey | null
  }): KeyProvider
  /**
   * The provider that unwraps `wrapped` (named by its prefix). An SSE-C key needs the request's
   * customer key; a provider this cell does not hold is an `InvalidWrappedKey`.
   */
  unwrapperFor(wrapped: WrappedKey, customerKey: SseCKey | null): KeyProvider
  /** Crypto-shredding: destroys the bucket's key-encryption keys, so its data keys never unwrap again. */
  destroyBucketKeys(bucket: string): Promise<void>
}

/** Opens a cell's keys: the `dc` provider's master key lives in `<dcDir>/keys/`. */
export async function openCellKeys(
  dc: string,
  dcDir: string,
  deps: { readonly logger: Logger; readonly bucketExists?: BucketExists },
): Promise<CellKeys> {
  const provider = await DcKeyProvider.open({ dc, dcDir }, deps)
  const sseC = (key: SseCKey) => createSseCKeyProvider(key, { dc })
  return {
    dc: provider,
    wrapperFor: ({ customerKey }) => (customerKey === null ? provider : sseC(customerKey)),
    unwrapperFor(wrapped, customerKey) {
      const name = wrapped.split(':', 1)[0] ?? ''
      if (name === provider.name) return provider
      if (name === 'sse-c') {
        if (customerKey === null) throw KeyErrors.sseCMissing()
        return sseC(customerKey)
      }
      throw KeyErrors.invalidWrappedKey(name, 'this data center holds no such key provider')
    },
    async destroyBucketKeys(bucket) {
      if (supportsKeyDestruction(provider)) await provider.destroyBucketKey(bucket)
    },
  }
}
