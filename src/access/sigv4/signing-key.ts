import { hmac } from './canonical-request.js'

/** Derive the SigV4 signing key for a secret, a `yyyymmdd` date, a region and a service. */
export function deriveSigningKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, date)
  const kRegion = hmac(kDate, region)
  const kService = hmac(kRegion, service)
  return hmac(kService, 'aws4_request')
}

/** A bounded memo of derived signing keys (derivation costs about 4x a cache hit). */
export class SigningKeyCache {
  readonly #max: number
  readonly #keys = new Map<string, Buffer>()

  constructor(maxEntries = 1000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `Cannot create a signing key cache of size '${maxEntries}': it must be a positive integer`,
      )
    }
    this.#max = maxEntries
  }

  /** The signing key for these inputs, derived once and then reused until evicted. */
  get(secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const id = `${date}\n${region}\n${service}\n${secretAccessKey}`
    const hit = this.#keys.get(id)
    if (hit !== undefined) return hit
    const key = deriveSigningKey(secretAccessKey, date, region, service)
    if (this.#keys.size >= this.#max) {
      const oldest = this.#keys.keys().next()
      if (oldest.done !== true) this.#keys.delete(oldest.value)
    }
    this.#keys.set(id, key)
    return key
  }

  /** How many keys are cached. */
  get size(): number {
    return this.#keys.size
  }
}
