import { finished, pipeline, type Readable } from 'node:stream'
import type { PendingBlob } from '../../blob/index.js'
import type { Cell } from '../../cell/index.js'
import {
  createDecryptStream,
  createEncryptStream,
  type EnvelopeBinding,
  generateDataKey,
} from '../../keys/index.js'
import { EtagHasher, type EtagResult } from './etag-hasher.js'
import { type HashAlgorithm, localHash, offThreadHash, type StreamHash } from './off-thread-hash.js'
import { ResidencyErrors } from './residency-error.js'

/**
 * The transfer gate's write into the destination cell, verified while it is written (instead of
 * by reading the stored bytes back, decrypting and hashing them a second time):
 *
 *   plaintext → encrypt (fresh data key) → envelope ─┬→ blob store (temp file, fsync)
 *                                                    ├→ SHA-256 of the envelope
 *                                                    └→ decrypt with the data key *unwrapped back
 *                                                       from the wrapped key that is stored*
 *                                                       → size and ETag
 *
 * When it resolves, the envelope handed to the store decrypts, under the destination's stored
 * wrapped key and the object's binding, to exactly `expected.size` bytes whose ETag is
 * `expected.etag` (every segment's GCM tag checked), and `envelopeDigest` is the SHA-256 of that
 * envelope: `checkStoredEnvelope` then proves the committed blob holds those very bytes. Hashes
 * of objects of 4 MiB or more run on the hashing worker (the second core).
 *
 * The envelope is the one `encryptingWrite` (src/cell/object-crypto.ts) writes: same format
 * (src/keys/envelope/), same key provider (the data center's own, as `DC_ENCRYPTION` records),
 * same binding; decryptingRead opens it like any other object.
 */

/** Objects from this size on are hashed on the worker thread. */
export const OFF_THREAD_MIN_BYTES = 4 * 1024 * 1024

/** The verified envelope, not yet part of an object. */
export type VerifiedSeal = (
  | { readonly kind: 'inline'; readonly bytes: Buffer }
  | { readonly kind: 'pending'; readonly pending: PendingBlob }
) & {
  readonly wrappedKey: string
  /** SHA-256 of the envelope as written. */
  readonly envelopeDigest: Buffer
  readonly envelopeSize: number
}

/** Which object is written and what its plaintext must be. */
export interface SealTarget {
  readonly bucket: string
  readonly key: string
  readonly versionId: string | null
  readonly size: number
  readonly etag: string
  readonly partSizes: readonly number[] | null
}

/**
 * Encrypts `plaintext` under a fresh data key of `cell`'s data center for `target`, into a pending
 * blob (or in memory with `inline`), verifying it as it streams (see above). Throws
 * `TransferVerificationFailed` (after discarding what it wrote) when the size or ETag differ or
 * the envelope does not decrypt; a source error rejects with the source's or the store's error.
 */
export async function sealVerified(
  cell: Cell,
  plaintext: Readable,
  target: SealTarget,
  options: { readonly inline: boolean; readonly signal?: AbortSignal },
): Promise<VerifiedSeal> {
  const where = `${cell.dc.id}/${target.bucket}/${target.key}`
  const context = { dc: cell.dc.id, bucket: target.bucket }
  const binding: EnvelopeBinding = {
    dc: cell.dc.id,
    bucket: target.bucket,
    key: target.key,
    versionId: target.versionId ?? 'null',
  }
  const provider = await cell.keys.wrapperFor({
    bucket: target.bucket,
    kmsKeyArn: null,
    customerKey: null,
  })
  const dek = generateDataKey()
  let wrappedKey: string
  let encrypt: ReturnType<typeof createEncryptStream>
  try {
    // Wrap first: a key service that is down fails the copy before any byte is stored.
    wrappedKey = await provider.wrap(dek, context, options.signal)
    encrypt = createEncryptStream({ dek, binding })
  } finally {
    dek.fill(0)
  }
  // The check decrypts with what the stored wrapped key opens to, not with the key in hand.
  const unwrapper = await cell.keys.unwrapperFor(wrappedKey, { customerKey: null, kmsKeyArn: null })
  const verifyKey = await unwrapper.unwrap(wrappedKey, context, options.signal)
  // No expected size here: a size that differs is reported as such by `check`, below.
  const verify = createDecryptStream({ dek: verifyKey, binding })
  verifyKey.fill(0)

  const hashOf: (algorithm: HashAlgorithm) => StreamHash =
    target.size >= OFF_THREAD_MIN_BYTES ? offThreadHash : localHash
  const etag = new EtagHasher(target.partSizes, hashOf)
  const envelopeHash = hashOf('sha256')
  let verifyError: unknown = null
  verify.on('data', (chunk: Buffer) => etag.update(chunk))
  verify.on('error', (err) => {
    verifyError ??= err
  })
  const verified = new Promise<void>((resolve) => finished(verify, () => resolve()))

  let envelopeSize = 0
  // Errors of the source destroy the encrypt stream with the same error.
  pipeline(plaintext, encrypt, () => {})
  async function* teed(): AsyncGenerator<Buffer> {
    for await (const chunk of encrypt) {
      const bytes = chunk as Buffer
      envelopeSize += bytes.length
      envelopeHash.update(bytes)
      if (verifyError === null) verify.write(bytes)
      yield bytes
    }
  }

  const discardHashes = () => {
    etag.discard()
    envelopeHash.discard()
    verify.destroy()
  }
  let stored: { kind: 'inline'; bytes: Buffer } | { kind: 'pending'; pending: PendingBlob }
  try {
    if (options.inline) {
      const chunks: Buffer[] = []
      for await (const chunk of teed()) chunks.push(chunk)
      stored = { kind: 'inline', bytes: Buffer.concat(chunks) }
    } else {
      const signal = options.signal
      stored = {
        kind: 'pending',
        pending: await cell.blob.write(teed(), signal === undefined ? {} : { signal }),
      }
    }
  } catch (err) {
    discardHashes()
    throw err
  }
  try {
    verify.end()
    await verified
    if (verifyError !== null) {
      throw ResidencyErrors.transferVerificationFailed(
        where,
        `the envelope written does not decrypt (${(verifyError as Error).message})`,
      )
    }
    check(where, target, await etag.finish())
    const envelopeDigest = await envelopeHash.digest()
    if (stored.kind === 'pending' && stored.pending.size !== envelopeSize) {
      throw ResidencyErrors.transferVerificationFailed(
        where,
        `the store wrote ${stored.pending.size} bytes of a ${envelopeSize}-byte envelope`,
      )
    }
    return { ...stored, wrappedKey, envelopeDigest, envelopeSize }
  } catch (err) {
    discardHashes()
    if (stored.kind === 'pending') await stored.pending.discard()
    throw err
  }
}

/**
 * Reads a committed blob back and checks that it is, byte for byte, the envelope `sealVerified`
 * verified (its size and SHA-256). Throws `TransferVerificationFailed` otherwise.
 */
export async function checkStoredEnvelope(
  cell: Cell,
  where: string,
  ref: string,
  seal: { readonly envelopeDigest: Buffer; readonly envelopeSize: number },
): Promise<void> {
  const hash = (seal.envelopeSize >= OFF_THREAD_MIN_BYTES ? offThreadHash : localHash)('sha256')
  let size = 0
  try {
    for await (const chunk of cell.blob.read(ref)) {
      size += (chunk as Buffer).length
      hash.update(chunk as Buffer)
    }
  } catch (err) {
    hash.discard()
    throw err
  }
  const digest = await hash.digest()
  if (size !== seal.envelopeSize || !digest.equals(seal.envelopeDigest)) {
    throw ResidencyErrors.transferVerificationFailed(
      `${where} (read back)`,
      size !== seal.envelopeSize
        ? `the stored envelope has ${size} bytes, ${seal.envelopeSize} were written`
        : 'the stored envelope differs from the one written (SHA-256)',
    )
  }
}

/** Size and ETag of what the destination's envelope decrypts to, against the source's record. */
export function check(where: string, expected: SealTarget, got: EtagResult): void {
  if (got.size !== expected.size) {
    throw ResidencyErrors.transferVerificationFailed(
      where,
      `size ${got.size} is not ${expected.size}`,
    )
  }
  if (got.etag !== expected.etag) {
    throw ResidencyErrors.transferVerificationFailed(
      where,
      `ETag "${got.etag}" is not "${expected.etag}"`,
    )
  }
}
