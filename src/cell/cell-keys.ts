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
import type { CustomerKeyResolver } from './customer-keys.js'

/**
 * Which key provider protects a data key, chosen per object: SSE-C requests bring their own key;
 * an object whose encryption names a customer KMS key (`aws:kms` with a key id: its ARN) is
 * wrapped by that key's provider (vault-transit), resolved through the registry the composition
 * root injects; everything else uses the data center's own provider (`dc`).
 */
export interface CellKeys {
  /** The data center's own provider: a master key in its folder, one KEK per bucket. */
  readonly dc: KeyProvider
  /**
   * The provider that wraps new data keys of a bucket: `customerKey` (SSE-C for this request),
   * else the customer KMS key `kmsKeyArn`, else `dc`. An unknown, removed or here-disallowed KMS
   * key is a `KeyNotFound` / `KeyDisabled`.
   */
  wrapperFor(options: {
    readonly bucket: string
    readonly kmsKeyArn: string | null
    readonly customerKey: SseCKey | null
  }): Promise<KeyProvider>
  /**
   * The provider that unwraps `wrapped` (named by its prefix). An SSE-C key needs the request's
   * customer key, a vault-transit key the object's KMS key ARN; a provider this cell does not
   * hold is an `InvalidWrappedKey`.
   */
  unwrapperFor(
    wrapped: WrappedKey,
    options: { readonly customerKey: SseCKey | null; readonly kmsKeyArn: string | null },
  ): Promise<KeyProvider>
  /** Crypto-shredding: destroys the bucket's key-encryption keys, so its data keys never unwrap again. */
  destroyBucketKeys(bucket: string): Promise<void>
}

/**
 * Opens a cell's keys: the `dc` provider's master key lives in `<dcDir>/keys/`; `customerKeys`
 * resolves registered customer KMS keys (none when absent: naming one is a `KeyNotFound`).
 */
export async function openCellKeys(
  dc: string,
  dcDir: string,
  deps: {
    readonly logger: Logger
    readonly customerKeys?: CustomerKeyResolver
    readonly bucketExists?: BucketExists
  },
): Promise<CellKeys> {
  const provider = await DcKeyProvider.open({ dc, dcDir }, deps)
  const sseC = (key: SseCKey) => createSseCKeyProvider(key, { dc })
  const customer = (arn: string): Promise<KeyProvider> => {
    if (deps.customerKeys === undefined) throw KeyErrors.notFound('vault-transit', arn)
    return deps.customerKeys(arn, dc)
  }
  return {
    dc: provider,
    async wrapperFor({ customerKey, kmsKeyArn }) {
      if (customerKey !== null) return sseC(customerKey)
      return kmsKeyArn === null ? provider : customer(kmsKeyArn)
    },
    async unwrapperFor(wrapped, { customerKey, kmsKeyArn }) {
      const name = wrapped.split(':', 1)[0] ?? ''
      if (name === provider.name) return provider
      if (name === 'sse-c') {
        if (customerKey === null) throw KeyErrors.sseCMissing()
        return sseC(customerKey)
      }
      if (name === 'vault-transit') {
        if (kmsKeyArn === null) {
          throw KeyErrors.invalidWrappedKey(name, 'the object names no customer KMS key')
        }
        return customer(kmsKeyArn)
      }
      throw KeyErrors.invalidWrappedKey(name, 'this data center holds no such key provider')
    },
    async destroyBucketKeys(bucket) {
      if (supportsKeyDestruction(provider)) await provider.destroyBucketKey(bucket)
    },
  }
}
