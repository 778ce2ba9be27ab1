import { Readable } from 'node:stream'
import type { PendingBlob } from '../../blob/index.js'
import {
  type Cell,
  decryptingRead,
  encryptingWrite,
  type SealedPlaintext,
  sealedRead,
} from '../../cell/index.js'
import type { ReceiptSource } from '../../keys/index.js'
import type { ObjectData, ObjectRecord } from '../../meta/index.js'
import { checkEtag, OFF_THREAD_MIN_BYTES, verifyCopy } from './copy-verification.js'
import { EtagHasher } from './etag-hasher.js'
import { writeVerifiedBlob } from './verified-write.js'

export { OFF_THREAD_MIN_BYTES } from './copy-verification.js'

/**
 * The only code that moves object bytes from one cell to another, through two seams:
 * `openPlaintext` (an object's bytes, decrypted with its data center's keys) and `writeObject`
 * (plaintext stored as an object of another cell, encrypted under that data center's keys).
 * Data keys never cross: each data center wraps its own.
 */

/** How copies are made. */
export interface CopyOptions {
  /** Objects up to this size are stored inline in the destination's metadata store. */
  readonly inlineMaxBytes: number
  readonly signal?: AbortSignal
  /** Log-before-decrypt: the receipt of the gate's read of a source object (see `openPlaintext`). */
  readonly sourceReceipt?: (record: ObjectRecord) => ReceiptSource
}

/** The outcome of copying one object. */
export type CopyOutcome =
  | { readonly kind: 'copied'; readonly record: ObjectRecord }
  | { readonly kind: 'missing' }

/**
 * The plaintext bytes of an object stored in `cell`: decrypted with that data center's keys
 * (every piece is checked; a tampered one fails the stream). SSE-C objects cannot be opened
 * without the customer's key and fail here. `receipt` is called only when a customer key service
 * must unwrap a data key (log-before-decrypt).
 */
export function openPlaintext(
  cell: Cell,
  record: ObjectRecord,
  receipt?: ReceiptSource,
): Promise<Readable> {
  return decryptingRead(cell, record, {
    range: null,
    customerKey: null,
    ...(receipt === undefined ? {} : { receipt }),
  })
}

/**
 * Bytes `range.start`..`range.end` (inclusive) of an object's plaintext, decrypting only the
 * segments that hold the range. The whole object, when it is read in full, is checked against
 * the record's size and ETag as it streams: a mismatch fails the stream at its end.
 */
export async function openPlaintextRange(
  cell: Cell,
  record: ObjectRecord,
  range: { readonly start: number; readonly end: number } | null,
  receipt?: ReceiptSource,
): Promise<Readable> {
  if (range === null || (range.start === 0 && range.end === record.size - 1)) {
    const where = `${cell.dc.id}/${record.bucket}/${record.key}`
    const hasher = new EtagHasher(record.partSizes)
    const whole = await openPlaintext(cell, record, receipt)
    return Readable.from(
      (async function* () {
        for await (const chunk of whole) {
          hasher.update(chunk as Buffer)
          yield chunk as Buffer
        }
        checkEtag(where, record, await hasher.finish())
      })(),
    )
  }
  return decryptingRead(cell, record, {
    range,
    customerKey: null,
    ...(receipt === undefined ? {} : { receipt }),
  })
}

/** The destination's encryption of a transferred object: the data center's own key. */
const DC_ENCRYPTION = { algorithm: 'AES256', kmsKeyId: null, customerKeyFingerprint: null } as const

/**
 * Stores plaintext `bytes` as `record` (whose `data` is replaced) in `cell`, encrypted under a
 * fresh data key of the destination data center, and reads what the destination stored back:
 * decrypted with the stored wrapped key, its size and ETag checked against the record, before
 * the metadata row names it. The ETag is computed once, over what the destination returns (the
 * source's bytes are authenticated by their own GCM tags as they are read). Objects in blobs
 * from `OFF_THREAD_MIN_BYTES` on are read back while they are written (`writeVerifiedBlob`),
 * their MD5 on a worker thread; smaller ones after their blob is committed. Durable when it
 * resolves. Throws `TransferVerificationFailed` (nothing becomes visible, the written blob is
 * removed) on a mismatch.
 */
export async function writeObject(
  cell: Cell,
  record: ObjectRecord,
  bytes: Readable | SealedPlaintext,
  options: CopyOptions,
): Promise<ObjectRecord> {
  const where = `${cell.dc.id}/${record.bucket}/${record.key} (read back)`
  // The record says DC_ENCRYPTION: the copy is wrapped under the destination data center's key.
  const target: ObjectRecord = { ...record, encryption: DC_ENCRYPTION }
  const inline = record.size <= options.inlineMaxBytes
  const overlapped = !inline && record.size >= OFF_THREAD_MIN_BYTES
  const provider = await cell.keys.wrapperFor({
    bucket: record.bucket,
    kmsKeyArn: null,
    customerKey: null,
  })
  let data: ObjectData
  if (overlapped) {
    const { pending, wrappedKey } = await writeVerifiedBlob(cell, target, bytes, {
      provider,
      where,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    await commitOrDiscard(pending)
    data = { kind: 'blobs', parts: [{ ref: pending.ref, size: record.size, wrappedKey }] }
  } else {
    const sealed = await encryptingWrite(cell, bytes, {
      identity: { bucket: record.bucket, key: record.key, versionId: record.versionId },
      provider,
      inline,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    if (sealed.kind === 'inline') {
      data = { kind: 'inline', bytes: sealed.bytes, wrappedKey: sealed.wrappedKey }
    } else {
      await commitOrDiscard(sealed.pending)
      data = {
        kind: 'blobs',
        parts: [{ ref: sealed.pending.ref, size: record.size, wrappedKey: sealed.wrappedKey }],
      }
    }
  }
  const stored: ObjectRecord = { ...target, data }
  try {
    // End to end: what the destination's store decrypts back is what the source held.
    if (!overlapped)
      await verifyCopy(where, stored, () => openPlaintext(cell, stored), options.signal)
    const { orphaned } = await cell.meta.putObject(stored)
    await cell.blob.remove(orphaned.map((p) => p.ref)).catch(() => undefined)
  } catch (err) {
    if (data.kind === 'blobs') await cell.blob.remove(data.parts.map((p) => p.ref))
    throw err
  }
  return stored
}

/** Commits a pending blob; on failure removes it and rethrows. */
async function commitOrDiscard(pending: PendingBlob): Promise<void> {
  try {
    await pending.commit()
  } catch (err) {
    await pending.discard()
    throw err
  }
}

/**
 * Copies `key` from `from.bucket` in `source` to `to.bucket` in `destination` (same key, same
 * headers, metadata, checksums and last-modified time), verified end to end. `missing` when the
 * source has no such object. Copying again over an identical copy is harmless (idempotent).
 */
export async function copyObjectBetweenCells(
  source: Cell,
  destination: Cell,
  from: { readonly bucket: string; readonly key: string },
  to: { readonly bucket: string },
  options: CopyOptions,
): Promise<CopyOutcome> {
  const record = await source.meta.getObject(from.bucket, from.key, { withData: true })
  if (record === null) return { kind: 'missing' }
  // The gate moves current versions: the copy is the destination's `null` version, whatever
  // version id it had at the source (ids belong to the source bucket's history).
  const target: ObjectRecord = { ...record, bucket: to.bucket, versionId: null }
  const receipt = options.sourceReceipt?.(record)
  // A large object in one envelope is opened and sealed for the destination in one job on an
  // envelope worker (`sealedRead`): its plaintext never reaches the event loop.
  const sealed = await sealedRead(source, record, {
    customerKey: null,
    ...(receipt === undefined ? {} : { receipt }),
  })
  try {
    const bytes = sealed ?? (await openPlaintext(source, record, receipt))
    return { kind: 'copied', record: await writeObject(destination, target, bytes, options) }
  } finally {
    sealed?.discard()
  }
}

/** Removes an object (and then its blobs) from a cell; true when it was there. */
export async function removeObject(cell: Cell, bucket: string, key: string): Promise<boolean> {
  const { deleted, orphaned } = await cell.meta.deleteObject(bucket, key)
  await cell.blob.remove(orphaned.map((p) => p.ref)).catch(() => undefined)
  return deleted
}
