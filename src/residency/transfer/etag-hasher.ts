import { createHash } from 'node:crypto'
import { type HashAlgorithm, localHash, type StreamHash } from './off-thread-hash.js'

/** Size and S3 ETag of a byte stream. */
export interface EtagResult {
  readonly size: number
  readonly etag: string
}

/**
 * Computes an S3 ETag over a byte stream: the MD5 hex, or for a multipart object (known part
 * sizes) the MD5 of the parts' MD5s followed by `-<parts>`. The MD5s are computed by `hashOf`
 * (on this thread by default; `offThreadHash` for large objects).
 */
export class EtagHasher {
  readonly #partSizes: readonly number[] | null
  readonly #hashOf: (algorithm: HashAlgorithm) => StreamHash
  readonly #partDigests: Promise<Buffer>[] = []
  #hash: StreamHash
  #partIndex = 0
  #inPart = 0
  #size = 0
  #finished: Promise<EtagResult> | null = null

  constructor(
    partSizes: readonly number[] | null,
    hashOf: (algorithm: HashAlgorithm) => StreamHash = localHash,
  ) {
    this.#partSizes = partSizes !== null && partSizes.length > 0 ? partSizes : null
    this.#hashOf = hashOf
    this.#hash = hashOf('md5')
  }

  update(chunk: Buffer): void {
    this.#size += chunk.length
    if (this.#partSizes === null) {
      this.#hash.update(chunk)
      return
    }
    let offset = 0
    while (offset < chunk.length) {
      const partSize = this.#partSizes[this.#partIndex] ?? Number.POSITIVE_INFINITY
      const take = Math.min(partSize - this.#inPart, chunk.length - offset)
      this.#hash.update(chunk.subarray(offset, offset + take))
      this.#inPart += take
      offset += take
      if (this.#inPart === partSize) this.#closePart()
    }
  }

  /** Resolves when the hash can take more bytes (see `StreamHash.ready`). */
  ready(): Promise<void> {
    return this.#hash.ready()
  }

  /** Size and ETag of everything hashed; the hasher cannot be updated afterwards. */
  finish(): Promise<EtagResult> {
    this.#finished ??= this.#finish()
    return this.#finished
  }

  /** Drops the hashes of a stream that failed. */
  discard(): void {
    if (this.#finished === null) this.#hash.discard()
  }

  async #finish(): Promise<EtagResult> {
    const size = this.#size
    if (this.#partSizes === null) return { size, etag: (await this.#hash.digest()).toString('hex') }
    if (this.#inPart > 0) this.#closePart()
    else this.#hash.discard()
    return { size, etag: etagOf(this.#partSizes, await Promise.all(this.#partDigests)) }
  }

  #closePart(): void {
    const digest = this.#hash.digest()
    // Awaited by finish(); a worker failure before then must not be an unhandled rejection.
    digest.catch(() => undefined)
    this.#partDigests.push(digest)
    this.#hash = this.#hashOf('md5')
    this.#partIndex++
    this.#inPart = 0
  }
}

/**
 * The S3 ETag from the MD5s of an object's plaintext (`EnvelopeDigest.digests`, split at
 * `partSizes`): the MD5 hex of a plain object, the MD5 of the parts' MD5s and `-<parts>` for a
 * multipart one (non-empty `partSizes`).
 */
export function etagOf(partSizes: readonly number[] | null, digests: readonly Buffer[]): string {
  if (partSizes === null || partSizes.length === 0)
    return (digests[0] ?? Buffer.alloc(0)).toString('hex')
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`
}
