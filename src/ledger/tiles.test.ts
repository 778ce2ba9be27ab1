import { describe, expect, it } from 'vitest'
import { toHex } from './encoding.js'
import { hex, loadVectors } from './test-fixtures.js'
import {
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  entriesPath,
  entriesPathForLogIndex,
  parseTileLevelIndex,
  parseTilePath,
  tilePath,
  tilesForTreeSize,
} from './tiles.js'

interface TileVectors {
  pathVectors: {
    tilePath: Array<{ level: number; index: number; width: number; want: string }>
    entriesPath: Array<{ index: number; width: number; want: string }>
    entriesPathForLogIndex: Array<{ seq: number; logSize: number; want: string }>
    parseLevelIndex: Array<{
      level: string
      index: string
      wantLevel?: number
      wantIndex?: number | string
      wantWidth?: number
      wantErr?: boolean
    }>
  }
  tilesForTreeSize: Record<
    string,
    { partialTiles: string[]; fullTileCountByLevel: Record<string, number> }
  >
  testLog: {
    files: Array<{ path: string; kind: string; width: number; hex: string; entriesUtf8?: string[] }>
  }
}

const vectors = loadVectors<TileVectors>('tlog-tiles.json')

describe('tile paths (tlog-tiles.json)', () => {
  it.each(vectors.pathVectors.tilePath)('tilePath($level, $index, $width) = $want', (v) => {
    expect(tilePath(v.level, v.index, v.width)).toBe(v.want)
    const parsed = parseTilePath(v.want)
    expect(parsed).toEqual({
      kind: 'hashes',
      level: v.level,
      index: BigInt(v.index),
      width: v.width,
    })
  })

  it.each(vectors.pathVectors.entriesPath)('entriesPath($index, $width) = $want', (v) => {
    expect(entriesPath(v.index, v.width)).toBe(v.want)
    expect(parseTilePath(v.want)).toEqual({
      kind: 'entries',
      index: BigInt(v.index),
      width: v.width,
    })
  })

  it.each(vectors.pathVectors.entriesPathForLogIndex)(
    'entriesPathForLogIndex($seq, $logSize) = $want',
    (v) => {
      expect(entriesPathForLogIndex(v.seq, v.logSize)).toBe(v.want)
    },
  )

  it.each(vectors.pathVectors.parseLevelIndex)('parseTileLevelIndex($level, $index)', (v) => {
    if (v.wantErr) {
      expect(() => parseTileLevelIndex(v.level, v.index)).toThrow(SyntaxError)
      return
    }
    expect(parseTileLevelIndex(v.level, v.index)).toEqual({
      level: v.wantLevel,
      index: BigInt(v.wantIndex ?? -1),
      width: v.wantWidth,
    })
  })

  it.each(Object.entries(vectors.tilesForTreeSize))('tilesForTreeSize(%s)', (size, want) => {
    const got = tilesForTreeSize(BigInt(size))
    expect(got.partialTiles).toEqual(want.partialTiles)
    expect(
      Object.fromEntries([...got.fullTileCountByLevel].map(([l, n]) => [String(l), Number(n)])),
    ).toEqual(want.fullTileCountByLevel)
  })
})

describe('tile and bundle encoding (tlog-tiles.json testLog)', () => {
  it.each(vectors.testLog.files)('decodes and re-encodes $path', (f) => {
    const bytes = hex(f.hex)
    if (f.kind === 'hashTile') {
      expect(decodeHashTile(bytes)).toHaveLength(f.width)
      return
    }
    const entries = decodeEntryBundle(bytes)
    expect(entries.map((e) => new TextDecoder().decode(e))).toEqual(f.entriesUtf8)
    expect(toHex(encodeEntryBundle(entries))).toBe(f.hex)
  })

  it('rejects truncated bundles and ragged tiles', () => {
    expect(() => decodeEntryBundle(Uint8Array.of(0, 3, 1))).toThrow(SyntaxError)
    expect(() => decodeHashTile(new Uint8Array(33))).toThrow(SyntaxError)
    expect(() => encodeEntryBundle([new Uint8Array(65536)])).toThrow(RangeError)
  })
})
