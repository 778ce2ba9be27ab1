import { createHash, type Hash } from 'node:crypto'
import { Readable } from 'node:stream'
import { type Cell, decryptingRead, encryptingWrite } from '../../cell/index.js'
import type { ReceiptSource } from '../../keys/index.js'
import type { ObjectData, ObjectRecord } from '../../meta/index.js'
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
        verify(where, record, hasher)
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
 * fresh data key of the destination data center, verifying on the way that size and ETag equal
 * the record's, then decrypting the committed bytes back and hashing them again: the
 * destination holds exactly the source's bytes before its metadata names them. Durable when it
 * resolves. Throws `TransferVerificationFailed` (nothing becomes visible) on a mismatch.
 */
export async function writeObject(
  cell: Cell,
  record: ObjectRecord,
  bytes: Readable,
  options: CopyOptions,
): Promise<ObjectRecord> {
  const hasher = new EtagHasher(record.partSizes)
  const hashed = Readable.from(
    (async function* () {
      for await (const chunk of bytes) {
        hasher.update(chunk as Buffer)
        yield chunk as Buffer
      }
    })(),
  )
  const where = `${cell.dc.id}/${record.bucket}/${record.key}`
  // The record says DC_ENCRYPTION: the copy is wrapped under the destination data center's key.
  const sealed = await encryptingWrite(cell, hashed, {
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
    verify(where, record, hasher)
    data = { kind: 'inline', bytes: sealed.bytes, wrappedKey: sealed.wrappedKey }
  } else {
    try {
      verify(where, record, hasher)
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
  // End to end: what the destination's store decrypts back is what the source held.
  const back = new EtagHasher(record.partSizes)
  try {
    for await (const chunk of await openPlaintext(cell, stored)) back.update(chunk as Buffer)
    verify(`${where} (read back)`, record, back)
  } catch (err) {
    if (data.kind === 'blobs') await cell.blob.remove(data.parts.map((p) => p.ref))
    throw err
  }
  try {
    const { orphaned } = await cell.meta.putObject(stored)
    await cell.blob.remove(orphaned.map((p) => p.ref)).catch(() => undefined)
  } catch (err) {
    if (data.kind === 'blobs') await cell.blob.remove(data.parts.map((p) => p.ref))
    throw err
  }
  return stored
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

function verify(where: string, record: ObjectRecord, hasher: EtagHasher): void {
  const { size, etag } = hasher.finish()
  if (size !== record.size) {
    throw ResidencyErrors.transferVerificationFailed(where, `size ${size} is not ${record.size}`)
  }
  if (etag !== record.etag) {
    throw ResidencyErrors.transferVerificationFailed(
      where,
      `ETag "${etag}" is not "${record.etag}"`,
    )
  }
}

/**
 * Computes an S3 ETag over a byte stream: the MD5 hex, or for a multipart object (known part
 * sizes) the MD5 of the parts' MD5s followed by `-<parts>`.
 */
class EtagHasher {
  readonly #partSizes: readonly number[] | null
  readonly #whole = createHash('md5')
  readonly #partDigests: Buffer[] = []
  #part: Hash = createHash('md5')
  #partIndex = 0
  #inPart = 0
  #size = 0
  #finished: { size: number; etag: string } | null = null

  constructor(partSizes: readonly number[] | null) {
    this.#partSizes = partSizes !== null && partSizes.length > 0 ? partSizes : null
  }

  update(chunk: Buffer): void {
    this.#size += chunk.length
    if (this.#partSizes === null) {
      this.#whole.update(chunk)
      return
    }
    let offset = 0
    while (offset < chunk.length) {
      const partSize = this.#partSizes[this.#partIndex] ?? Number.POSITIVE_INFINITY
      const take = Math.min(partSize - this.#inPart, chunk.length - offset)
      this.#part.update(chunk.subarray(offset, offset + take))
      this.#inPart += take
      offset += take
      if (this.#inPart === partSize) this.#closePart()
    }
  }

  finish(): { size: number; etag: string } {
    if (this.#finished !== null) return this.#finished
    if (this.#partSizes === null) {
      this.#finished = { size: this.#size, etag: this.#whole.digest('hex') }
      return this.#finished
    }
    if (this.#inPart > 0) this.#closePart()
    const etag = `${createHash('md5').update(Buffer.concat(this.#partDigests)).digest('hex')}-${this.#partDigests.length}`
    this.#finished = { size: this.#size, etag }
    return this.#finished
  }

  #closePart(): void {
    this.#partDigests.push(this.#part.digest())
    this.#part = createHash('md5')
    this.#partIndex++
    this.#inPart = 0
  }
}
