import { Readable } from 'node:stream'
import { type Cell, decryptingRead, encryptingWrite } from '../../cell/index.js'
import { isKeyError, type ReceiptSource } from '../../keys/index.js'
import type { ObjectData, ObjectRecord } from '../../meta/index.js'
import { EtagHasher, type EtagResult } from './etag-hasher.js'
import { localHash, offThreadHash } from './off-thread-hash.js'
import { ResidencyErrors } from './residency-error.js'

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
        check(where, record, await hasher.finish())
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

/** Objects from this size on have their ETag computed on the hashing worker (the second core). */
export const OFF_THREAD_MIN_BYTES = 4 * 1024 * 1024

/**
 * Stores plaintext `bytes` as `record` (whose `data` is replaced) in `cell`, encrypted under a
 * fresh data key of the destination data center, then reads the committed bytes back, decrypts
 * them with the stored wrapped key and checks their size and ETag against the record: the
 * destination holds exactly the source's bytes before its metadata names them. The ETag is
 * computed once, over what the destination returns (the source's bytes are authenticated by
 * their own GCM tags as they are read); for large objects its MD5 runs on a worker thread while
 * this thread decrypts. Durable when it resolves. Throws `TransferVerificationFailed` (nothing
 * becomes visible, the written blob is removed) on a mismatch.
 */
export async function writeObject(
  cell: Cell,
  record: ObjectRecord,
  bytes: Readable,
  options: CopyOptions,
): Promise<ObjectRecord> {
  const where = `${cell.dc.id}/${record.bucket}/${record.key}`
  // The record says DC_ENCRYPTION: the copy is wrapped under the destination data center's key.
  const sealed = await encryptingWrite(cell, bytes, {
    identity: { bucket: record.bucket, key: record.key, versionId: record.versionId },
    provider: await cell.keys.wrapperFor({
      bucket: record.bucket,
      kmsKeyArn: null,
      customerKey: null,
    }),
    inline: record.size <= options.inlineMaxBytes,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  let data: ObjectData
  if (sealed.kind === 'inline') {
    data = { kind: 'inline', bytes: sealed.bytes, wrappedKey: sealed.wrappedKey }
  } else {
    try {
      await sealed.pending.commit()
    } catch (err) {
      await sealed.pending.discard()
      throw err
    }
    data = {
      kind: 'blobs',
      parts: [{ ref: sealed.pending.ref, size: record.size, wrappedKey: sealed.wrappedKey }],
    }
  }
  const stored: ObjectRecord = { ...record, encryption: DC_ENCRYPTION, data }
  try {
    // End to end: what the destination's store decrypts back is what the source held.
    await readBack(cell, where, stored, options.signal)
    const { orphaned } = await cell.meta.putObject(stored)
    await cell.blob.remove(orphaned.map((p) => p.ref)).catch(() => undefined)
  } catch (err) {
    if (data.kind === 'blobs') await cell.blob.remove(data.parts.map((p) => p.ref))
    throw err
  }
  return stored
}

/**
 * Decrypts a stored copy (every segment's GCM tag and binding checked) and checks its size and
 * ETag against the record; a copy that does not decrypt is a `TransferVerificationFailed` too.
 */
async function readBack(
  cell: Cell,
  where: string,
  stored: ObjectRecord,
  signal: AbortSignal | undefined,
): Promise<void> {
  const hasher = new EtagHasher(
    stored.partSizes,
    stored.size >= OFF_THREAD_MIN_BYTES ? offThreadHash : localHash,
  )
  try {
    for await (const chunk of await openPlaintext(cell, stored)) {
      if (signal?.aborted === true) throw signal.reason
      hasher.update(chunk as Buffer)
      // Decryption outruns MD5: wait for the worker rather than queue the object in memory.
      await hasher.ready()
    }
  } catch (err) {
    hasher.discard()
    if (isKeyError(err, 'IntegrityFailure')) {
      throw ResidencyErrors.transferVerificationFailed(
        `${where} (read back)`,
        `the stored copy does not decrypt: ${err.message}`,
      )
    }
    throw err
  }
  check(`${where} (read back)`, stored, await hasher.finish())
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
  const stored = await writeObject(
    destination,
    target,
    await openPlaintext(source, record, options.sourceReceipt?.(record)),
    options,
  )
  return { kind: 'copied', record: stored }
}

/** Removes an object (and then its blobs) from a cell; true when it was there. */
export async function removeObject(cell: Cell, bucket: string, key: string): Promise<boolean> {
  const { deleted, orphaned } = await cell.meta.deleteObject(bucket, key)
  await cell.blob.remove(orphaned.map((p) => p.ref)).catch(() => undefined)
  return deleted
}

/** Size and ETag of what was read, against the record. */
function check(where: string, record: ObjectRecord, got: EtagResult): void {
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
