import type { Readable } from 'node:stream'
import {
  type BlobStore,
  type BlobWriteCheck,
  type PendingBlob,
  withWriteCheck,
} from '../../blob/index.js'
import {
  type Cell,
  type CryptoCell,
  digestingRead,
  encryptingWrite,
  type SealedPlaintext,
} from '../../cell/index.js'
import type { KeyProvider } from '../../keys/index.js'
import type { ObjectRecord } from '../../meta/index.js'
import { verifyCopyDigest } from './copy-verification.js'
import { ResidencyErrors } from './residency-error.js'

/**
 * A large copy's write and its read-back, overlapped: the destination's blob store hands the
 * envelope back as it stores it (`BlobWriteOptions.check`), and it is decrypted and hashed while
 * the rest is still being written, so a copy costs about the longer of the two passes instead of
 * their sum. The check is the read-back's, as strong: what is decrypted is read from the
 * destination's store after it was written there.
 */

/** A blob sealed, written, fsynced and verified; not yet committed. */
export interface VerifiedBlob {
  readonly pending: PendingBlob
  readonly wrappedKey: string
}

/**
 * Stores plaintext `bytes` as one pending blob of `cell`, sealed as `record` (bucket, key,
 * version) under a fresh data key of the destination data center, and verifies it while it is
 * written: each stored byte is read back from the blob file after its write returned (lagging
 * the writer), decrypted through `decryptingRead` with the wrapped key the copy will be stored
 * with (every segment's GCM tag and binding), and the whole is checked against `record`'s size
 * and ETag; the blob store resolves only after that check and the file's fsync. A mismatch stops
 * the write at once, leaves no file and rejects with `TransferVerificationFailed`.
 */
export async function writeVerifiedBlob(
  cell: Cell,
  record: ObjectRecord,
  bytes: Readable | SealedPlaintext,
  options: {
    /** The destination's key provider for `record.bucket`. */
    readonly provider: KeyProvider
    /** Names the copy in errors. */
    readonly where: string
    readonly signal?: AbortSignal
  },
): Promise<VerifiedBlob> {
  const { provider, where } = options
  // encryptingWrite wraps the data key before it writes any byte: the check needs the wrapped
  // key to decrypt what is stored, while encryptingWrite returns it only at the end.
  let wrappedKey: string | null = null
  const remembering: KeyProvider = {
    name: provider.name,
    wrap: async (dek, context, signal) => {
      wrappedKey = await provider.wrap(dek, context, signal)
      return wrappedKey
    },
    unwrap: (wrapped, context, signal, receiptFor) =>
      provider.unwrap(wrapped, context, signal, receiptFor),
  }
  const check: BlobWriteCheck = async (stored, ref) => {
    const key = wrappedKey
    if (key === null) throw new Error('the destination wrote bytes before wrapping their key')
    const written = storedAs(record, ref, key)
    await verifyCopyDigest(where, written, () =>
      digestingRead(readingTail(cell, ref, stored), written, { customerKey: null }),
    )
  }
  const sealed = await encryptingWrite(
    { dc: cell.dc, keys: cell.keys, blob: withWriteCheck(cell.blob, check) },
    bytes,
    {
      identity: { bucket: record.bucket, key: record.key, versionId: record.versionId },
      provider: remembering,
      inline: false,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  )
  if (sealed.kind !== 'pending' || sealed.wrappedKey !== wrappedKey) {
    if (sealed.kind === 'pending') await sealed.pending.discard()
    throw ResidencyErrors.transferVerificationFailed(
      where,
      'the stored copy is not the one that was checked',
    )
  }
  return { pending: sealed.pending, wrappedKey: sealed.wrappedKey }
}

/** `record` as stored in one blob `ref` whose data key is `wrappedKey`. */
function storedAs(record: ObjectRecord, ref: string, wrappedKey: string): ObjectRecord {
  return { ...record, data: { kind: 'blobs', parts: [{ ref, size: record.size, wrappedKey }] } }
}

/**
 * `cell` for reading, where the blob `ref`, read whole and once, is `stored` (the pending write's
 * bytes as the store holds them): what `decryptingRead` needs to open a blob not committed yet.
 */
function readingTail(cell: Cell, ref: string, stored: Readable): CryptoCell {
  let served = false
  const blob: BlobStore = {
    write: () => Promise.reject(new Error('a read-back does not write')),
    read: (asked, range) => {
      if (asked !== ref || range !== undefined || served) {
        throw new Error(`a read-back reads blob ${ref} once and whole`)
      }
      served = true
      return stored
    },
    remove: () => Promise.reject(new Error('a read-back does not remove')),
    sweep: () => Promise.reject(new Error('a read-back does not sweep')),
    close: () => Promise.resolve(),
  }
  return { dc: cell.dc, keys: cell.keys, blob }
}
