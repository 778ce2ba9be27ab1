import { concatBytes } from './encoding.js'
import { HASH_SIZE } from './merkle/rfc6962.js'

/**
 * c2sp.org/tlog-tiles: the static read API. Tiles hold 256 hashes of one level of 8 Merkle
 * levels (`tile/<L>/<N>[.p/<W>]`); entry bundles hold the entries themselves
 * (`tile/entries/<N>[.p/<W>]`). The format is the spec's; its version is the spec's URL.
 */

/** Hashes (or entries) in a full tile. */
export const TILE_WIDTH = 256
/** Merkle levels one tile level spans (256 = 2^8). */
export const TILE_HEIGHT = 8
/** Largest tile level the path format allows. */
export const MAX_TILE_LEVEL = 63
/** Largest entry an entry bundle can hold (uint16 length prefix). */
export const MAX_ENTRY_SIZE = 0xffff

/**
 * Encodes a tile index as 3-digit groups, all but the last prefixed with `x`:
 * 1234067 → `x001/x234/067`, 5 → `005`.
 */
export function encodeTileIndex(index: bigint | number): string {
  let n = BigInt(index)
  if (n < 0n) throw new RangeError(`Cannot encode tile index ${n}: it is negative`)
  const groups: string[] = []
  do {
    groups.unshift((n % 1000n).toString().padStart(3, '0'))
    n /= 1000n
  } while (n > 0n)
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/')
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RangeError(`Cannot name a tile of width ${width}: it must be in 1..256`)
  }
  return width === TILE_WIDTH ? '' : `.p/${width}`
}

/** Path of hash tile (level, index), partial when width < 256. */
export function tilePath(
  level: number,
  index: bigint | number,
  width: number = TILE_WIDTH,
): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw new RangeError(`Cannot name a tile at level ${level}: it must be in 0..63`)
  }
  return `tile/${level}/${encodeTileIndex(index)}${widthSuffix(width)}`
}

/** Path of entry bundle `index`, partial when width < 256. */
export function entriesPath(index: bigint | number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`
}

/** Width of tile `index` at `level` in a tree of `size` leaves (0 when it does not exist yet). */
export function tileWidth(level: number, index: bigint | number, size: bigint | number): number {
  const rowSize = BigInt(size) / 256n ** BigInt(level)
  const start = BigInt(index) * 256n
  if (rowSize <= start) return 0
  const left = rowSize - start
  return left >= 256n ? TILE_WIDTH : Number(left)
}

/** Path of the entry bundle holding entry `seq` in a log of `logSize` entries. */
export function entriesPathForLogIndex(seq: bigint | number, logSize: bigint | number): string {
  const index = BigInt(seq) / 256n
  return entriesPath(index, tileWidth(0, index, logSize))
}

/** A parsed tile path. */
export type ParsedTilePath =
  | {
      readonly kind: 'hashes'
      readonly level: number
      readonly index: bigint
      readonly width: number
    }
  | { readonly kind: 'entries'; readonly index: bigint; readonly width: number }

/**
 * Parses the level and index parts of a tile path strictly (Tessera's rules: level 0..63 in
 * plain decimal, index groups `xNNN/…/NNN` of at most 18 digits, width 1..255 after `.p/`).
 * Throws SyntaxError.
 */
export function parseTileLevelIndex(
  level: string,
  index: string,
): { level: number; index: bigint; width: number } {
  if (!/^(0|[1-9][0-9]?)$/.test(level) || Number(level) > MAX_TILE_LEVEL) {
    throw new SyntaxError(`Cannot parse tile level "${level}": it must be 0..63`)
  }
  return { level: Number(level), ...parseIndex(index) }
}

/** Parses a whole `tile/…` path (hash tile or entry bundle). Throws SyntaxError. */
export function parseTilePath(path: string): ParsedTilePath {
  const m = /^tile\/([^/]+)\/(.+)$/.exec(path)
  if (m === null)
    throw new SyntaxError(`Cannot parse tile path "${path}": it does not start with tile/`)
  const [, level, rest] = m as unknown as [string, string, string]
  if (level === 'entries') return { kind: 'entries', ...parseIndex(rest) }
  return { kind: 'hashes', ...parseTileLevelIndex(level, rest) }
}

function parseIndex(text: string): { index: bigint; width: number } {
  const m = /^((?:x[0-9]{3}\/){0,5})([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(text)
  if (m === null)
    throw new SyntaxError(`Cannot parse tile index "${text}": it is not xNNN/…/NNN[.p/W]`)
  const digits = `${(m[1] ?? '').replace(/[x/]/g, '')}${m[2] ?? ''}`
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3])
  if (m[3] !== undefined && width >= TILE_WIDTH)
    throw new SyntaxError(`Cannot parse tile index "${text}": width must be 1..255`)
  return { index: BigInt(digits), width }
}

/** The tiles a tree of `size` leaves has: full-tile count and the partial tile (if any) per level. */
export function tilesForTreeSize(size: bigint | number): {
  fullTileCountByLevel: Map<number, bigint>
  partialTiles: string[]
} {
  const fullTileCountByLevel = new Map<number, bigint>()
  const partialTiles: string[] = []
  let rowSize = BigInt(size)
  for (let level = 0; rowSize > 0n; level++) {
    fullTileCountByLevel.set(level, rowSize / 256n)
    const width = Number(rowSize % 256n)
    if (width > 0) partialTiles.push(tilePath(level, rowSize / 256n, width))
    rowSize /= 256n
  }
  return { fullTileCountByLevel, partialTiles }
}

/** A hash tile: the concatenated 32-byte hashes (1..256 of them). */
export function encodeHashTile(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length < 1 || hashes.length > TILE_WIDTH) {
    throw new RangeError(`Cannot encode a tile of ${hashes.length} hashes: it must hold 1..256`)
  }
  for (const h of hashes) {
    if (h.byteLength !== HASH_SIZE)
      throw new RangeError('Cannot encode a tile: a hash is not 32 bytes')
  }
  return concatBytes(hashes)
}

/** Splits a hash tile into its hashes. Throws SyntaxError unless it holds 1..256 whole hashes. */
export function decodeHashTile(bytes: Uint8Array): Uint8Array[] {
  if (bytes.byteLength === 0 || bytes.byteLength % HASH_SIZE !== 0 || bytes.byteLength > 8192) {
    throw new SyntaxError(`Cannot decode a tile of ${bytes.byteLength} bytes: not 1..256 hashes`)
  }
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; at += HASH_SIZE) out.push(bytes.slice(at, at + HASH_SIZE))
  return out
}

/** An entry bundle: each entry as `uint16 big-endian length || bytes`. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > TILE_WIDTH) {
    throw new RangeError(`Cannot encode a bundle of ${entries.length} entries: at most 256`)
  }
  const parts: Uint8Array[] = []
  for (const e of entries) {
    if (e.byteLength > MAX_ENTRY_SIZE) {
      throw new RangeError(`Cannot encode an entry of ${e.byteLength} bytes: at most 65535`)
    }
    parts.push(Uint8Array.of(e.byteLength >> 8, e.byteLength & 0xff), e)
  }
  return concatBytes(parts)
}

/** Splits an entry bundle into entries. Throws SyntaxError on a truncated bundle. */
export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let at = 0
  while (at < bytes.byteLength) {
    if (at + 2 > bytes.byteLength)
      throw new SyntaxError('Cannot decode entry bundle: truncated length')
    const len = ((bytes[at] as number) << 8) | (bytes[at + 1] as number)
    at += 2
    if (at + len > bytes.byteLength)
      throw new SyntaxError('Cannot decode entry bundle: truncated entry')
    out.push(bytes.slice(at, at + len))
    at += len
  }
  if (out.length > TILE_WIDTH)
    throw new SyntaxError('Cannot decode entry bundle: more than 256 entries')
  return out
}

/**
 * The entry bundles that change when `entries` are appended to a log of `fromSize` entries,
 * given the entries of its right-edge partial bundle (`edgeEntries`, empty when `fromSize` is a
 * multiple of 256). Keys are bundle paths.
 */
export function entryBundleUpdates(options: {
  fromSize: number
  edgeEntries: readonly Uint8Array[]
  entries: readonly Uint8Array[]
}): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  if (options.entries.length === 0) return out
  const edgeWidth = options.fromSize % TILE_WIDTH
  if (options.edgeEntries.length !== edgeWidth) {
    throw new RangeError(
      `Cannot extend entry bundles: the edge bundle holds ${options.edgeEntries.length} entries, not ${edgeWidth}`,
    )
  }
  const all = [...options.edgeEntries, ...options.entries]
  const firstIndex = Math.floor(options.fromSize / TILE_WIDTH)
  for (let off = 0; off < all.length; off += TILE_WIDTH) {
    const chunk = all.slice(off, off + TILE_WIDTH)
    out.set(entriesPath(firstIndex + off / TILE_WIDTH, chunk.length), encodeEntryBundle(chunk))
  }
  return out
}

/** What reading a log's entries needs of its storage. */
export interface BundleReader {
  readEntryBundle(index: number, width: number): Promise<Uint8Array | undefined>
}

/**
 * The first `width` entries of entry bundle `index`, or undefined when it is not stored. A
 * partial bundle may already have been superseded by the full one, so that is read instead.
 */
export async function readBundleEntries(
  storage: BundleReader,
  index: number,
  width: number,
): Promise<Uint8Array[] | undefined> {
  const bytes =
    (await storage.readEntryBundle(index, width)) ??
    (await storage.readEntryBundle(index, TILE_WIDTH))
  return bytes === undefined ? undefined : decodeEntryBundle(bytes).slice(0, width)
}
