import { pipeline, Readable } from 'node:stream'
import type { BlobStore, PendingBlob } from '../blob/index.js'
import { randomBytesPooled } from '../core/index.js'
import {
  type ByteRange,
  ciphertextRangeFor,
  createDecryptStream,
  DEK_SIZE,
  digestEnvelope,
  digestEnvelopeOffThread,
  ENVELOPE_HEADER_SIZE,
  type EnvelopeBinding,
  type EnvelopeDigest,
  EnvelopeOpener,
  envelopeThreadsAvailable,
  isKeyError,
  KeyError,
  KeyErrors,
  type KeyProvider,
  nativeGcm,
  type OpeningParams,
  openEnvelopeOffThread,
  PlaintextDigest,
  parseEnvelopeHeader,
  type ReceiptSource,
  type SseCKey,
  sealEnvelope,
} from '../keys/index.js'
import type { BlobPart, ObjectRecord } from '../meta/index.js'
import type { CellKeys } from './cell-keys.js'

/**
 * The one seam through which object bytes enter and leave a cell's storage: every writer (the S3
 * face, the transfer gate) seals plaintext with `encryptingWrite` and every reader opens it with
 * `decryptingRead`. Formats: src/keys/envelope/README.md; files: src/blob/fs/README.md.
 */

/** What of a cell the seam needs. */
export interface CryptoCell {
  readonly dc: { readonly id: string }
  readonly blob: BlobStore
  readonly keys: CellKeys
}

/** Which object (or multipart part) the bytes belong to; bound into every segment. */
export interface ObjectIdentity {
  readonly bucket: string
  readonly key: string
  /** The version (null: the `null` version); every version is bound as `"null"` (`bindingOf`). */
  readonly versionId: string | null
  /** A multipart part's number; absent for a whole object. */
  readonly partNumber?: number
}

/** Sealed bytes, not yet part of an object: in memory (inline) or in a pending blob. */
export type SealedData =
  | { readonly kind: 'inline'; readonly bytes: Buffer; readonly wrappedKey: string }
  | { readonly kind: 'pending'; readonly pending: PendingBlob; readonly wrappedKey: string }

/**
 * Encrypts `source` (plaintext) under a fresh data key wrapped by `provider` for {dc, bucket},
 * streaming: memory stays at about one segment. With `inline` the envelope is kept in memory
 * (small objects stored in the metadata row); otherwise it goes to a pending blob the caller
 * commits or discards. A source error rejects with the blob store's `SourceFailed` (cause: the
 * source's error) or, inline, with the source's error; nothing is left behind.
 */
export async function encryptingWrite(
  cell: CryptoCell,
  source: AsyncIterable<Buffer> | Readable | SealedPlaintext,
  options: {
    readonly identity: ObjectIdentity
    readonly provider: KeyProvider
    readonly inline: boolean
    readonly signal?: AbortSignal
    /**
     * Nothing reads `source`'s chunks once they are yielded (a request body already hashed): the
     * cipher may overwrite them with their ciphertext (`SealMemory`) instead of allocating.
     */
    readonly chunksOwned?: boolean
  },
): Promise<SealedData> {
  const { identity, provider } = options
  // A fresh data key, as `generateDataKey()` draws it, from the pooled CSPRNG (no syscall per key).
  const dek = randomBytesPooled(DEK_SIZE)
  let wrappedKey: string
  let sealed: AsyncGenerator<Buffer, void, undefined>
  try {
    // Wrap first: a key service that is down fails the write before any byte is stored.
    wrappedKey = await provider.wrap(
      dek,
      { dc: cell.dc.id, bucket: identity.bucket },
      options.signal,
    )
    // No stream between the source, the cipher and the blob file: each ciphertext buffer goes to
    // the blob store as the cipher made it (the generator holds its own copy of the key). Sealing
    // stays on the event loop: on a worker it cost more CPU per MiB and gained no throughput
    // (docs/benchmarks.md, 2026-11-28 04:10). Plaintext still sealed is opened and sealed again
    // in one worker job instead: it never reaches the event loop.
    const { bytes, opening } = isSealed(source)
      ? storedEnvelopeOf(source).take()
      : { bytes: source, opening: undefined }
    sealed = sealEnvelope(
      bytes,
      {
        dek,
        binding: bindingOf(cell, identity),
        ...(opening === undefined ? {} : { opening }),
      },
      { chunksOwned: options.chunksOwned === true },
    )
  } finally {
    dek.fill(0)
    if (isSealed(source)) source.discard()
  }
  if (options.inline) {
    const chunks: Buffer[] = []
    for await (const chunk of sealed) chunks.push(chunk)
    return { kind: 'inline', bytes: Buffer.concat(chunks), wrappedKey }
  }
  const pending = await cell.blob.write(
    sealed,
    options.signal === undefined ? {} : { signal: options.signal },
  )
  return { kind: 'pending', pending, wrappedKey }
}

/**
 * An object's plaintext still in its stored envelope (`sealedRead`): what `encryptingWrite`
 * takes to store it again under another key and binding, opening and sealing it in one job on an
 * envelope worker, so that no plaintext reaches the event loop. Consumed by one `encryptingWrite`;
 * `discard()` (idempotent) forgets its data key and stops its read if nothing consumed it.
 */
export interface SealedPlaintext {
  readonly kind: 'sealed'
  /** Plaintext bytes. */
  readonly size: number
  discard(): void
}

/** The one implementation of `SealedPlaintext`: a blob's envelope, its key and binding. */
class StoredEnvelope implements SealedPlaintext {
  readonly kind = 'sealed'
  readonly size: number
  readonly #envelope: Readable
  readonly #dek: Buffer
  readonly #binding: EnvelopeBinding
  #taken = false

  constructor(envelope: Readable, dek: Buffer, binding: EnvelopeBinding, size: number) {
    this.#envelope = envelope
    this.#dek = Buffer.from(dek)
    this.#binding = binding
    this.size = size
  }

  /**
   * The stored envelope and what opens it, for `sealEnvelope` (which copies the key before it
   * returns; `discard()` zeroes this one after); once.
   */
  take(): { readonly bytes: Readable; readonly opening: OpeningParams } {
    if (this.#taken) throw new Error('A sealed plaintext is written once')
    this.#taken = true
    return {
      bytes: this.#envelope,
      // The blob read was opened for this copy alone: its chunks can move to the worker.
      opening: {
        dek: this.#dek,
        binding: this.#binding,
        plaintextSize: this.size,
        sourceChunksOwned: true,
      },
    }
  }

  discard(): void {
    this.#dek.fill(0)
    if (!this.#taken) this.#envelope.destroy()
    this.#taken = true
  }
}

function isSealed(
  source: AsyncIterable<Buffer> | Readable | SealedPlaintext,
): source is SealedPlaintext {
  return 'kind' in source && source.kind === 'sealed'
}

function storedEnvelopeOf(source: SealedPlaintext): StoredEnvelope {
  if (!(source instanceof StoredEnvelope)) throw new TypeError('Not a sealedRead() result')
  return source
}

/**
 * The whole of `record` as a `SealedPlaintext` when it is one envelope of 256 KiB or more and
 * there is an envelope worker; null otherwise (read it with `decryptingRead`). Its data key is
 * unwrapped now, with the same keys, receipts and `KeyError`s as `decryptingRead`; its envelope
 * is authenticated segment by segment as it is sealed again (`IntegrityFailure` as on read).
 */
export async function sealedRead(
  cell: CryptoCell,
  record: ObjectRecord,
  options: ReadKeys,
): Promise<SealedPlaintext | null> {
  const part =
    record.data.kind === 'blobs' && record.data.parts.length === 1
      ? record.data.parts[0]
      : undefined
  const wrapped = part?.wrappedKey
  if (
    part === undefined ||
    wrapped === undefined ||
    part.size < OFF_THREAD_MIN_BYTES ||
    !envelopeThreadsAvailable()
  ) {
    return null
  }
  const identity: ObjectIdentity = {
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
  }
  const dek = await withContext(cell, identity, part.partNumber, () =>
    unwrap(cell, wrapped, identity, readKeysOf(record, options)),
  )
  try {
    const binding = bindingOf(cell, { ...identity, ...partNumberOf(part) })
    return new StoredEnvelope(cell.blob.read(part.ref), dek, binding, part.size)
  } finally {
    dek.fill(0)
  }
}

/**
 * Where an object's data key comes from on read: the request's SSE-C key, if it sent one, and,
 * for a key service with log-before-decrypt, the receipt of this read's access event.
 */
export interface ReadKeys {
  readonly customerKey: SseCKey | null
  /**
   * Log-before-decrypt: called only when a data key must be unwrapped by a customer key service
   * (not for a cached key, and never for `dc` or SSE-C keys). It must make the read's access
   * event durable in the data center's log and return its receipt; it is called at most once
   * per read (memoised here), even for a multipart object with several keys.
   */
  readonly receipt?: ReceiptSource
}

/**
 * Opens plaintext bytes `range` (inclusive; null = whole object) of `record`: each piece (the
 * inline bytes, the single blob, or each multipart part) is its own envelope; only the segments
 * that hold the range are read from the blob and decrypted. Legacy pieces without a wrapped key
 * are plaintext and served as stored.
 *
 * Failures are `KeyError`s: 'IntegrityFailure' (tampered, truncated, reordered, another object's
 * segments) and 'InvalidWrappedKey' (a key wrapped for another bucket or data center), with
 * `details` naming dc, bucket, key, part and segment. No byte of a failing segment is emitted.
 * The data key of the first piece is unwrapped before this resolves; the rest as they are reached.
 */
export async function decryptingRead(
  cell: CryptoCell,
  record: ObjectRecord,
  options: { readonly range: ByteRange | null } & ReadKeys,
): Promise<Readable> {
  const range = options.range ?? { start: 0, end: record.size - 1 }
  const identity: ObjectIdentity = {
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
  }
  const keys = readKeysOf(record, options)
  if (record.size === 0) {
    // No bytes to serve, but the envelope (header and the empty last segment's tag) must still
    // authenticate: a tampered, truncated or moved empty object fails like any other.
    await verifyEmpty(cell, record, identity, keys)
    return Readable.from([])
  }
  if (record.data.kind === 'inline') {
    return Readable.from([await decryptingReadInline(cell, record, options)])
  }
  const pieces = piecesOf(record.data.parts, range)
  const [first] = pieces
  if (first === undefined) return Readable.from([])
  // The first key is unwrapped now, so a foreign or tampered key fails before any header is sent.
  const firstDek =
    first.part.wrappedKey === undefined
      ? null
      : await withContext(cell, identity, first.part.partNumber, () =>
          unwrap(cell, first.part.wrappedKey as string, identity, keys),
        )
  if (pieces.length === 1 && firstDek !== null) {
    // The common case: one envelope, read and decrypted by two streams and nothing else.
    try {
      return await withContext(cell, identity, first.part.partNumber, () =>
        openPiece(cell, { ...identity, ...partNumberOf(first.part) }, first, firstDek),
      )
    } finally {
      firstDek.fill(0)
    }
  }
  return Readable.from(piecesBytes(cell, identity, pieces, firstDek, keys), {
    highWaterMark: 1,
  })
}

/**
 * The plaintext of an object stored inline in the metadata row (`range` of it, or all), as one
 * buffer: what `decryptingRead` streams for such an object, without a stream around it, for a
 * caller that can send it in one write. The same checks and `KeyError`s.
 */
export async function decryptingReadInline(
  cell: CryptoCell,
  record: ObjectRecord,
  options: { readonly range: ByteRange | null } & ReadKeys,
): Promise<Buffer> {
  if (record.data.kind !== 'inline') throw new TypeError('decryptingReadInline: not inline')
  const range = options.range ?? { start: 0, end: record.size - 1 }
  const { bytes, wrappedKey } = record.data
  if (wrappedKey === undefined) return bytes.subarray(range.start, range.end + 1)
  const identity: ObjectIdentity = {
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
  }
  const keys = readKeysOf(record, options)
  const plaintext = await withContext(cell, identity, undefined, async () => {
    const dek = await unwrap(cell, wrappedKey, identity, keys)
    try {
      return decryptBuffer(dek, bindingOf(cell, identity), bytes, record.size)
    } finally {
      dek.fill(0)
    }
  })
  return plaintext.subarray(range.start, range.end + 1)
}

/**
 * The size and MD5s (split at `record.partSizes`, see `EnvelopeDigest`) of the whole plaintext
 * of `record`, opened with the same keys, checks and `KeyError`s as `decryptingRead`, for a
 * caller that checks what is stored rather than serving it. An object in one envelope of
 * 256 KiB or more is opened and hashed in one job on an envelope worker when there is one: no
 * plaintext comes back to the event loop. Other objects are read as `decryptingRead` streams
 * them and hashed here.
 */
export async function digestingRead(
  cell: CryptoCell,
  record: ObjectRecord,
  options: ReadKeys,
): Promise<EnvelopeDigest> {
  const part =
    record.data.kind === 'blobs' && record.data.parts.length === 1
      ? record.data.parts[0]
      : undefined
  const wrapped = part?.wrappedKey
  if (part === undefined || wrapped === undefined || record.size === 0) {
    const digest = new PlaintextDigest(record.partSizes)
    const plaintext = await decryptingRead(cell, record, { ...options, range: null })
    for await (const chunk of plaintext) digest.update(chunk as Buffer)
    return digest.finish()
  }
  const identity: ObjectIdentity = {
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
  }
  const keys = readKeysOf(record, options)
  return withContext(cell, identity, part.partNumber, async () => {
    const dek = await unwrap(cell, wrapped, identity, keys)
    try {
      const params = { dek, binding: bindingOf(cell, { ...identity, ...partNumberOf(part) }) }
      const opts = { plaintextSize: part.size, partSizes: record.partSizes }
      // The blob read was opened for this digest alone: its chunks can move to the worker.
      return part.size >= OFF_THREAD_MIN_BYTES && envelopeThreadsAvailable()
        ? await digestEnvelopeOffThread(cell.blob.read(part.ref), params, opts, {
            sourceChunksOwned: true,
          })
        : await digestEnvelope(cell.blob.read(part.ref), params, opts)
    } finally {
      dek.fill(0)
    }
  })
}

/** Decrypts every envelope of an empty object (each yields no bytes) to check it authenticates. */
async function verifyEmpty(
  cell: CryptoCell,
  record: ObjectRecord,
  identity: ObjectIdentity,
  keys: UnwrapKeys,
): Promise<void> {
  if (record.data.kind === 'inline') {
    const { bytes, wrappedKey } = record.data
    if (wrappedKey === undefined) return
    await withContext(cell, identity, undefined, async () => {
      const dek = await unwrap(cell, wrappedKey, identity, keys)
      try {
        decryptBuffer(dek, bindingOf(cell, identity), bytes, 0)
      } finally {
        dek.fill(0)
      }
    })
    return
  }
  for (const part of record.data.parts) {
    const wrapped = part.wrappedKey
    if (wrapped === undefined) continue
    await withContext(cell, identity, part.partNumber, async () => {
      const dek = await unwrap(cell, wrapped, identity, keys)
      try {
        const piece = { part, start: 0, end: part.size - 1 }
        await readAll(await openPiece(cell, { ...identity, ...partNumberOf(part) }, piece, dek))
      } finally {
        dek.fill(0)
      }
    })
  }
}

/** One piece's share of a read: the part and the inclusive plaintext range within it. */
interface Piece {
  readonly part: BlobPart
  readonly start: number
  readonly end: number
}

function piecesOf(parts: readonly BlobPart[], range: ByteRange): Piece[] {
  const pieces: Piece[] = []
  let offset = 0
  for (const part of parts) {
    const partStart = offset
    const partEnd = offset + part.size - 1
    offset += part.size
    if (partEnd < range.start || partStart > range.end || part.size === 0) continue
    pieces.push({
      part,
      start: Math.max(range.start, partStart) - partStart,
      end: Math.min(range.end, partEnd) - partStart,
    })
  }
  return pieces
}

async function* piecesBytes(
  cell: CryptoCell,
  identity: ObjectIdentity,
  pieces: readonly Piece[],
  firstDek: Buffer | null,
  keys: UnwrapKeys,
): AsyncGenerator<Buffer> {
  let dek = firstDek
  try {
    for (const [i, piece] of pieces.entries()) {
      const { part } = piece
      if (part.wrappedKey === undefined) {
        for await (const chunk of cell.blob.read(part.ref, piece)) yield chunk as Buffer
        continue
      }
      const wrapped = part.wrappedKey
      const partIdentity = { ...identity, ...partNumberOf(part) }
      if (i > 0 || dek === null) {
        dek = await withContext(cell, identity, part.partNumber, () =>
          unwrap(cell, wrapped, identity, keys),
        )
      }
      const key = dek
      const stream = await withContext(cell, identity, part.partNumber, () =>
        openPiece(cell, partIdentity, piece, key),
      )
      key.fill(0)
      dek = null
      for await (const chunk of stream) yield chunk as Buffer
    }
  } finally {
    dek?.fill(0)
  }
}

/** A decrypting stream over exactly the segments of `piece` (the whole blob when it is whole). */
async function openPiece(
  cell: CryptoCell,
  identity: ObjectIdentity,
  piece: Piece,
  dek: Buffer,
): Promise<Readable> {
  const { part } = piece
  const binding = bindingOf(cell, identity)
  // With the AES-GCM addon, decrypting in place here costs less than a worker's messages under
  // load: 1.9 against 3.6 server CPU ms per MiB of 64 MiB GETs, 16 in flight (docs/benchmarks.md,
  // 2026-11-28 12:07). Without it, large reads are opened on a worker.
  const offThread =
    nativeGcm() === null &&
    piece.end - piece.start + 1 >= OFF_THREAD_MIN_BYTES &&
    envelopeThreadsAvailable()
  if (piece.start === 0 && piece.end === part.size - 1) {
    const options = { plaintextSize: part.size }
    if (offThread) return offThreadStream(cell.blob.read(part.ref), { dek, binding }, options)
    // The blob read is this stream's alone: its chunks can be decrypted in place.
    const decrypt = createDecryptStream({ dek, binding }, options, { chunksOwned: true })
    return pipeline(cell.blob.read(part.ref), decrypt, () => {})
  }
  const header = await readAll(
    cell.blob.read(part.ref, { start: 0, end: ENVELOPE_HEADER_SIZE - 1 }),
  )
  const { segmentSize } = parseEnvelopeHeader(header)
  const local = { start: piece.start, end: piece.end }
  const cipher = ciphertextRangeFor(local, { plaintextSize: part.size, segmentSize })
  const options = { range: local, plaintextSize: part.size, header }
  if (offThread) return offThreadStream(cell.blob.read(part.ref, cipher), { dek, binding }, options)
  const decrypt = createDecryptStream({ dek, binding }, options, { chunksOwned: true })
  return pipeline(cell.blob.read(part.ref, cipher), decrypt, () => {})
}

/** Reads of at least this many plaintext bytes are decrypted on another core, when there is one. */
const OFF_THREAD_MIN_BYTES = 256 * 1024

/**
 * A decrypting stream whose cipher runs on an envelope worker (the key is copied before this
 * returns). It holds one answer (256 KiB) beyond the worker's batches in flight.
 */
function offThreadStream(
  source: Readable,
  params: { readonly dek: Buffer; readonly binding: EnvelopeBinding },
  options: Parameters<typeof openEnvelopeOffThread>[2],
): Readable {
  // The blob read was opened for this stream alone: its chunks can move to the worker.
  const opened = openEnvelopeOffThread(source, params, options, { sourceChunksOwned: true })
  const stream = Readable.from(opened, { objectMode: false, highWaterMark: 1 })
  // A reader that stops early ends the generator, which stops reading the blob.
  stream.once('close', () => source.destroy())
  return stream
}

/** What every unwrap of one read needs: the SSE-C key, the KMS key ARN, the memoised receipt. */
interface UnwrapKeys {
  readonly customerKey: SseCKey | null
  readonly kmsKeyArn: string | null
  readonly receipt: ReceiptSource | undefined
}

function readKeysOf(record: ObjectRecord, options: ReadKeys): UnwrapKeys {
  const source = options.receipt
  let receipt: Promise<string | undefined> | undefined
  return {
    customerKey: options.customerKey,
    kmsKeyArn: record.encryption?.kmsKeyId ?? null,
    receipt:
      source === undefined
        ? undefined
        : (context, signal) => {
            receipt ??= source(context, signal)
            return receipt
          },
  }
}

async function unwrap(
  cell: CryptoCell,
  wrapped: string,
  identity: ObjectIdentity,
  keys: UnwrapKeys,
): Promise<Buffer> {
  const provider = await cell.keys.unwrapperFor(wrapped, keys)
  try {
    return await provider.unwrap(
      wrapped,
      { dc: cell.dc.id, bucket: identity.bucket },
      undefined,
      keys.receipt,
    )
  } catch (err) {
    // The data center's own provider has a key for every bucket holding objects: a missing one
    // means the row was moved here from another bucket (or its key was destroyed), not a key
    // the customer revoked.
    if (provider === cell.keys.dc && isKeyError(err, 'KeyNotFound')) {
      throw KeyErrors.invalidWrappedKey(
        provider.name,
        `bucket "${identity.bucket}" has no key-encryption key`,
        err,
      )
    }
    throw err
  }
}

/** Opens a whole envelope held in memory (inline objects): no stream, one pass. */
function decryptBuffer(
  dek: Buffer,
  binding: EnvelopeBinding,
  envelope: Buffer,
  size: number,
): Buffer {
  const opener = new EnvelopeOpener({ dek, binding }, { plaintextSize: size })
  const out: Buffer[] = []
  try {
    opener.update(envelope, out)
    opener.final(out)
  } catch (err) {
    throw opener.asIntegrity(err)
  } finally {
    opener.destroy()
  }
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function bindingOf(cell: CryptoCell, identity: ObjectIdentity): EnvelopeBinding {
  return {
    dc: cell.dc.id,
    bucket: identity.bucket,
    key: identity.key,
    // Every version binds "null": a multipart object's parts are sealed before its version id
    // exists, and each version has its own data keys, so another version's bytes fail to open
    // under this one's key anyway. Ids stay in the identity for error details.
    versionId: 'null',
    ...(identity.partNumber === undefined ? {} : { partNumber: identity.partNumber }),
  }
}

function partNumberOf(part: BlobPart): { partNumber?: number } {
  return part.partNumber === undefined ? {} : { partNumber: part.partNumber }
}

async function withContext<T>(
  cell: CryptoCell,
  identity: ObjectIdentity,
  partNumber: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw addContext(cell, identity, partNumber, err)
  }
}

/** Adds where it happened (dc, bucket, key, part) to a key error's details, for the operator. */
function addContext(
  cell: CryptoCell,
  identity: ObjectIdentity,
  partNumber: number | undefined,
  err: unknown,
): unknown {
  if (!isKeyError(err) || (err.code !== 'IntegrityFailure' && err.code !== 'InvalidWrappedKey')) {
    return err
  }
  if (err.details.bucket !== undefined) return err
  return new KeyError(err.code, err.message, {
    cause: err.cause ?? err,
    details: {
      ...err.details,
      dc: cell.dc.id,
      bucket: identity.bucket,
      key: identity.key,
      ...(partNumber === undefined ? {} : { part: String(partNumber) }),
    },
  })
}
