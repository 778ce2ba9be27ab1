import type { Readable } from 'node:stream'
import { type EnvelopeDigest, isKeyError } from '../../keys/index.js'
import type { ObjectRecord } from '../../meta/index.js'
import { EtagHasher, type EtagResult, etagOf } from './etag-hasher.js'
import { localHash, offThreadHash } from './off-thread-hash.js'
import { ResidencyErrors } from './residency-error.js'

/**
 * What a copy is checked against, whichever way its stored bytes are read back: they decrypt
 * (every segment's GCM tag and binding) and their size and ETag are the record's.
 */

/** Objects from this size on have their ETag computed on the hashing worker (the second core). */
export const OFF_THREAD_MIN_BYTES = 4 * 1024 * 1024

/**
 * Reads the plaintext `open` gives (a decryption of what the destination stored) to its end and
 * checks its size and ETag against `stored`. A copy that does not decrypt is a
 * `TransferVerificationFailed` too; other errors (an abort, a failed read) pass as they are.
 * `where` names the copy in errors.
 */
export async function verifyCopy(
  where: string,
  stored: ObjectRecord,
  open: () => Promise<Readable>,
  signal?: AbortSignal,
): Promise<void> {
  const hasher = new EtagHasher(
    stored.partSizes,
    stored.size >= OFF_THREAD_MIN_BYTES ? offThreadHash : localHash,
  )
  try {
    for await (const chunk of await open()) {
      if (signal?.aborted === true) throw signal.reason
      hasher.update(chunk as Buffer)
      // Decryption outruns MD5: wait for the worker rather than queue the object in memory.
      await hasher.ready()
    }
  } catch (err) {
    hasher.discard()
    if (isKeyError(err, 'IntegrityFailure')) {
      throw ResidencyErrors.transferVerificationFailed(
        where,
        `the stored copy does not decrypt: ${err.message}`,
      )
    }
    throw err
  }
  checkEtag(where, stored, await hasher.finish())
}

/**
 * Checks the size and ETag of what `digest` read (a decryption of what the destination stored,
 * hashed where it was decrypted: `digestingRead`) against `stored`, as `verifyCopy` does for a
 * stream of plaintext; the same errors.
 */
export async function verifyCopyDigest(
  where: string,
  stored: ObjectRecord,
  digest: () => Promise<EnvelopeDigest>,
): Promise<void> {
  let got: EnvelopeDigest
  try {
    got = await digest()
  } catch (err) {
    if (isKeyError(err, 'IntegrityFailure')) {
      throw ResidencyErrors.transferVerificationFailed(
        where,
        `the stored copy does not decrypt: ${err.message}`,
      )
    }
    throw err
  }
  checkEtag(where, stored, { size: got.size, etag: etagOf(stored.partSizes, got.digests) })
}

/** Size and ETag of what was read, against the record. */
export function checkEtag(where: string, record: ObjectRecord, got: EtagResult): void {
  if (got.size !== record.size) {
    throw ResidencyErrors.transferVerificationFailed(
      where,
      `size ${got.size} is not ${record.size}`,
    )
  }
  if (got.etag !== record.etag) {
    throw ResidencyErrors.transferVerificationFailed(
      where,
      `ETag "${got.etag}" is not "${record.etag}"`,
    )
  }
}
