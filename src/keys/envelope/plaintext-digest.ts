import { createHash, type Hash } from 'node:crypto'
import { EnvelopeOpener, type OpenParams } from './envelope-opener.js'

/** What digesting an envelope's plaintext gives: its size and the MD5 of each part, in order. */
export interface EnvelopeDigest {
  /** Plaintext bytes. */
  readonly size: number
  /**
   * MD5 of the plaintext, split at `partSizes` (one digest of the whole when there are none). A
   * part that holds no byte has no digest, so a plaintext shorter than the parts has fewer.
   */
  readonly digests: readonly Buffer[]
}

/**
 * MD5 over plaintext as it is opened, split into parts of the given sizes (an S3 multipart
 * object's ETag is the MD5 of its parts' MD5s; a plain object's is the MD5 of the whole). Bytes
 * beyond the listed parts go to one last part. The same split as the transfer gate's ETag hasher,
 * for the worker that opens an envelope and hashes what it opened in one job.
 */
export class PlaintextDigest {
  readonly #partSizes: readonly number[] | null
  readonly #digests: Buffer[] = []
  #hash: Hash = createHash('md5')
  #partIndex = 0
  #inPart = 0
  #size = 0

  /** `partSizes`: null (or empty) for one digest of the whole. */
  constructor(partSizes: readonly number[] | null = null) {
    this.#partSizes = partSizes !== null && partSizes.length > 0 ? partSizes : null
  }

  update(piece: Buffer): void {
    this.#size += piece.length
    if (this.#partSizes === null) {
      this.#hash.update(piece)
      return
    }
    let offset = 0
    while (offset < piece.length) {
      const partSize = this.#partSizes[this.#partIndex] ?? Number.POSITIVE_INFINITY
      const take = Math.min(partSize - this.#inPart, piece.length - offset)
      this.#hash.update(take === piece.length ? piece : piece.subarray(offset, offset + take))
      this.#inPart += take
      offset += take
      if (this.#inPart === partSize) this.#closePart()
    }
  }

  /** Size and digests of everything hashed; the digest cannot be updated afterwards. */
  finish(): EnvelopeDigest {
    if (this.#partSizes === null) this.#digests.push(this.#hash.digest())
    else if (this.#inPart > 0) this.#closePart()
    return { size: this.#size, digests: this.#digests }
  }

  #closePart(): void {
    this.#digests.push(this.#hash.digest())
    this.#hash = createHash('md5')
    this.#partIndex++
    this.#inPart = 0
  }
}

/**
 * The size and MD5s of the plaintext of the whole envelope read from `source`, opened and hashed
 * on this thread: what `digestEnvelopeOffThread` computes on a worker, for a process with one
 * core or an envelope too small to be worth posting. Failures are the opener's `KeyError`s.
 */
export async function digestEnvelope(
  source: AsyncIterable<Buffer>,
  params: OpenParams,
  options: { readonly plaintextSize?: number; readonly partSizes?: readonly number[] | null } = {},
): Promise<EnvelopeDigest> {
  const opener = new EnvelopeOpener(
    params,
    options.plaintextSize === undefined ? {} : { plaintextSize: options.plaintextSize },
  )
  const digest = new PlaintextDigest(options.partSizes ?? null)
  const out: Buffer[] = []
  /** One step of the opener; its failures (only its: not the source's) as `KeyError`s. */
  const step = (open: () => void) => {
    try {
      open()
    } catch (err) {
      throw opener.asIntegrity(err)
    }
    for (const piece of out) digest.update(piece)
    out.length = 0
  }
  try {
    for await (const chunk of source) step(() => opener.update(chunk, out))
    step(() => opener.final(out))
  } finally {
    opener.destroy()
  }
  return digest.finish()
}
