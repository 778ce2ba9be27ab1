import { crc32 } from 'node:zlib'
import { bytesEqual, utf8Bytes } from '../../encoding.js'
import { LedgerErrors } from '../../ledger-error.js'

/**
 * The sequencing write-ahead log (`state/sequenced/wal`): a sequence of records, one per
 * group commit, each
 *
 * ```
 * 0   "SWAL"                     magic
 * 4   u8 version (1), 3 zero bytes
 * 8   u64 BE first index
 * 16  u32 BE count
 * 20  u32 BE body length
 * 24  u32 BE CRC32 of the body
 * 28  u32 BE CRC32 of bytes 0..27 (so the header, and through it the body CRC, is checked)
 * 32  body: (u32 BE length | entry) × count
 * ```
 *
 * Records follow each other without gaps in index order. See README.md for recovery.
 */
export const WAL_MAGIC = utf8Bytes('SWAL')
export const WAL_VERSION = 1
export const WAL_HEADER_SIZE = 32

/** One decoded record: its byte range in the file and its entries (views into the file). */
export interface WalRecord {
  readonly offset: number
  readonly end: number
  readonly first: number
  readonly entries: Uint8Array[]
}

/** What `decodeWal` found: the intact records and, if the tail is torn, where it starts. */
export interface DecodedWal {
  readonly records: WalRecord[]
  /** Byte offset of a torn last record (a crash mid-append), or undefined. */
  readonly tornAt: number | undefined
}

/**
 * Encodes one record; also returns each entry as a view into the encoded bytes, so the caller
 * can keep them without holding on to (or aliasing) the caller's arrays.
 */
export function encodeWalRecord(
  first: number,
  entries: readonly Uint8Array[],
): { bytes: Uint8Array; views: Uint8Array[] } {
  let bodyLength = 0
  for (const e of entries) bodyLength += 4 + e.byteLength
  if (bodyLength > 0xffff_ffff) throw new RangeError(`a record of ${bodyLength} bytes is too large`)
  const buf = Buffer.allocUnsafeSlow(WAL_HEADER_SIZE + bodyLength)
  const views: Uint8Array[] = []
  let at = WAL_HEADER_SIZE
  for (const e of entries) {
    buf.writeUInt32BE(e.byteLength, at)
    at += 4
    buf.set(e, at)
    views.push(new Uint8Array(buf.buffer, buf.byteOffset + at, e.byteLength))
    at += e.byteLength
  }
  buf.set(WAL_MAGIC, 0)
  buf.writeUInt8(WAL_VERSION, 4)
  buf.fill(0, 5, 8)
  buf.writeBigUInt64BE(BigInt(first), 8)
  buf.writeUInt32BE(entries.length, 16)
  buf.writeUInt32BE(bodyLength, 20)
  buf.writeUInt32BE(crc32(buf.subarray(WAL_HEADER_SIZE)), 24)
  buf.writeUInt32BE(crc32(buf.subarray(0, 28)), 28)
  return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), views }
}

type Attempt =
  | { readonly kind: 'ok'; readonly record: WalRecord }
  /** `end` is known when the header is intact (its CRC matches), undefined otherwise. */
  | { readonly kind: 'bad'; readonly end: number | undefined }

/**
 * Decodes a whole WAL file. Appends are serialized and each is fdatasynced before the next
 * starts, so only the last record can be torn by a crash. A bad record is therefore a torn tail
 * when nothing intact can follow it: its intact header says it reaches the end of the file, or
 * its header is damaged and no intact record starts anywhere after it. Anything else (an intact
 * record after a damaged one, bytes after a complete damaged record, an intact record of an
 * unknown version) is corruption: `Corrupt`, never guessed.
 */
export function decodeWal(raw: Uint8Array, name: string): DecodedWal {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const records: WalRecord[] = []
  let at = 0
  while (at < buf.length) {
    const attempt = decodeRecord(buf, at, name)
    if (attempt.kind === 'ok') {
      records.push(attempt.record)
      at = attempt.record.end
      continue
    }
    const tail =
      attempt.end === undefined ? !intactRecordAfter(buf, at + 1, name) : attempt.end >= buf.length
    if (!tail) {
      throw LedgerErrors.corrupt(
        `sequencing log "${name}"`,
        `the record at byte ${at} fails its checksum and later bytes follow it`,
      )
    }
    return { records, tornAt: at }
  }
  return { records, tornAt: undefined }
}

function decodeRecord(buf: Buffer, at: number, name: string): Attempt {
  if (at + WAL_HEADER_SIZE > buf.length) return { kind: 'bad', end: undefined }
  const header = buf.subarray(at, at + WAL_HEADER_SIZE)
  if (
    !bytesEqual(header.subarray(0, 4), WAL_MAGIC) ||
    crc32(header.subarray(0, 28)) !== header.readUInt32BE(28)
  ) {
    return { kind: 'bad', end: undefined }
  }
  const bad = (state: string) =>
    LedgerErrors.corrupt(`sequencing log "${name}"`, `the record at byte ${at} ${state}`)
  const version = header.readUInt8(4)
  if (version !== WAL_VERSION) throw bad(`has version ${version}, not ${WAL_VERSION}`)
  const first = header.readBigUInt64BE(8)
  if (first > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`starts at index ${first}`)
  const count = header.readUInt32BE(16)
  const end = at + WAL_HEADER_SIZE + header.readUInt32BE(20)
  if (end > buf.length) return { kind: 'bad', end }
  const body = buf.subarray(at + WAL_HEADER_SIZE, end)
  if (crc32(body) !== header.readUInt32BE(24)) return { kind: 'bad', end }
  // The checksums match, so the bytes are what was written: a malformed body is a bug, not a tear.
  const entries: Uint8Array[] = []
  let p = 0
  for (let i = 0; i < count; i++) {
    if (p + 4 > body.length) throw bad('is shorter than its entries')
    const length = body.readUInt32BE(p)
    p += 4
    if (p + length > body.length) throw bad('is shorter than its entries')
    entries.push(new Uint8Array(body.buffer, body.byteOffset + p, length))
    p += length
  }
  if (p !== body.length) throw bad('has bytes after its entries')
  return { kind: 'ok', record: { offset: at, end, first: Number(first), entries } }
}

/** Whether an intact record starts at any byte offset ≥ `from`. */
function intactRecordAfter(buf: Buffer, from: number, name: string): boolean {
  for (let at = buf.indexOf(WAL_MAGIC, from); at !== -1; at = buf.indexOf(WAL_MAGIC, at + 1)) {
    try {
      if (decodeRecord(buf, at, name).kind === 'ok') return true
    } catch {
      return true // intact header and checksums, malformed inside: still written, not torn
    }
  }
  return false
}
