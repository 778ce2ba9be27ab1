import { describe, expect, it } from 'vitest'
import { toHex, utf8Bytes } from './encoding.js'
import { integrate, type TileFetcher, tileNodeFetcher } from './integrate.js'
import { consistencyProof, inclusionProof, verifyInclusion } from './merkle/proofs.js'
import { leafHash, rootFromLeafHashes } from './merkle/rfc6962.js'
import { hex, loadVectors } from './test-fixtures.js'
import { decodeHashTile, encodeTileIndex, entryBundleUpdates } from './tiles.js'

interface TileVectors {
  testLog: { entriesUtf8: string[]; files: Array<{ path: string; hex: string }> }
  derivedLargeTree: {
    treeSize: number
    root: string
    rootsBySize: Record<string, string>
    partialTiles: Record<string, string>
    fullTileSpotChecks: Record<string, string>
    inclusion: Array<{
      leafIndex: number
      treeSize: number
      leafHash: string
      proof: string[]
      root: string
    }>
    consistency: Array<{ size1: number; size2: number; proof: string[] }>
  }
}

const vectors = loadVectors<TileVectors>('tlog-tiles.json')

/** An in-memory tile store: every written path, plus the widest version of each tile. */
class MemoryTiles {
  readonly files = new Map<string, Uint8Array>()
  readonly #widest = new Map<string, Uint8Array>()
  write(tiles: Map<string, Uint8Array>): void {
    for (const [path, bytes] of tiles) {
      this.files.set(path, bytes)
      const key = path.replace(/\.p\/\d+$/, '')
      const old = this.#widest.get(key)
      if (old === undefined || old.byteLength < bytes.byteLength) this.#widest.set(key, bytes)
    }
  }
  readonly getTiles: TileFetcher = async (requests) =>
    requests.map((r) => {
      const key = `tile/${r.level}/${encodeTileIndex(r.index)}`
      return this.#widest.get(key)
    })
}

describe('integrate() over the Tessera test log (tlog-tiles.json testLog)', () => {
  it('writes the published tile and bundle bytes one entry at a time', async () => {
    const store = new MemoryTiles()
    const entries = vectors.testLog.entriesUtf8.map(utf8Bytes)
    const bundles = new Map<string, Uint8Array>()
    let size = 0
    for (const entry of entries) {
      const result = await integrate({
        getTiles: store.getTiles,
        fromSize: size,
        leafHashes: [leafHash(entry)],
      })
      store.write(result.tiles)
      for (const [p, b] of entryBundleUpdates({
        fromSize: size,
        edgeEntries: entries.slice(0, size),
        entries: [entry],
      })) {
        bundles.set(p, b)
      }
      size = result.size
      expect(toHex(result.root)).toBe(
        toHex(rootFromLeafHashes(entries.slice(0, size).map(leafHash))),
      )
    }
    for (const f of vectors.testLog.files) {
      const got = f.path.startsWith('tile/entries/') ? bundles.get(f.path) : store.files.get(f.path)
      expect(got && toHex(got), f.path).toBe(f.hex)
    }
  })
})

describe('integrate() over the derived 70000-entry tree (tlog-tiles.json derivedLargeTree)', () => {
  const big = vectors.derivedLargeTree
  const leaves = Array.from({ length: big.treeSize }, (_, i) => {
    const e = new Uint8Array(4)
    new DataView(e.buffer).setUint32(0, i)
    return leafHash(e)
  })
  const store = new MemoryTiles()
  const roots = new Map<number, string>()
  const built = (async () => {
    // Batch boundaries land on every size the vectors name, and on odd places in between.
    const stops = [
      ...new Set([1, 200, 255, 256, 257, 1000, 65535, 65536, 65537, 69888, 69999, 70000]),
    ]
    let size = 0
    for (const stop of stops) {
      const result = await integrate({
        getTiles: store.getTiles,
        fromSize: size,
        leafHashes: leaves.slice(size, stop),
      })
      store.write(result.tiles)
      size = result.size
      roots.set(size, toHex(result.root))
    }
  })()

  it('reproduces the roots at every named size', async () => {
    await built
    for (const [size, root] of Object.entries(big.rootsBySize))
      expect(roots.get(Number(size)), size).toBe(root)
    expect(roots.get(big.treeSize)).toBe(big.root)
  })

  it('writes the three partial tiles of the spec example and the spot-checked full tiles', async () => {
    await built
    for (const [path, want] of Object.entries(big.partialTiles)) {
      expect(toHex(store.files.get(path) ?? new Uint8Array()), path).toBe(want)
    }
    for (const [what, want] of Object.entries(big.fullTileSpotChecks)) {
      const [path, idx] = what.split(' hash[') as [string, string]
      const hashes = decodeHashTile(store.files.get(path) ?? new Uint8Array())
      expect(toHex(hashes[Number.parseInt(idx, 10)] ?? new Uint8Array()), what).toBe(want)
    }
  })

  it('serves inclusion and consistency proofs from tiles that cross tile boundaries', async () => {
    await built
    for (const v of big.inclusion) {
      const getNodes = tileNodeFetcher({ size: v.treeSize, getTiles: store.getTiles })
      const proof = await inclusionProof({ index: v.leafIndex, size: v.treeSize, getNodes })
      expect(proof.map(toHex), `inclusion ${v.leafIndex}`).toEqual(v.proof)
      expect(
        verifyInclusion({
          index: v.leafIndex,
          size: v.treeSize,
          leafHash: hex(v.leafHash),
          proof,
          root: hex(v.root),
        }),
      ).toBe(true)
    }
    for (const v of big.consistency) {
      const getNodes = tileNodeFetcher({ size: v.size2, getTiles: store.getTiles })
      const proof = await consistencyProof({ size1: v.size1, size2: v.size2, getNodes })
      expect(proof.map(toHex), `consistency ${v.size1}`).toEqual(v.proof)
    }
  })
})

describe('integrate() with arbitrary batch boundaries', () => {
  it('matches the RFC 6962 root after every batch, and re-running a step writes the same bytes', async () => {
    const leaves = Array.from({ length: 1100 }, (_, i) => leafHash(utf8Bytes(`leaf ${i}`)))
    const store = new MemoryTiles()
    let seed = 7
    const nextBatch = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return 1 + (seed % 300)
    }
    let size = 0
    while (size < leaves.length) {
      const batch = leaves.slice(size, size + nextBatch())
      const result = await integrate({
        getTiles: store.getTiles,
        fromSize: size,
        leafHashes: batch,
      })
      const again = await integrate({ getTiles: store.getTiles, fromSize: size, leafHashes: batch })
      const hexOf = (tiles: Map<string, Uint8Array>) =>
        [...tiles].map(([p, b]) => `${p}=${toHex(b)}`)
      expect(hexOf(again.tiles)).toEqual(hexOf(result.tiles))
      store.write(result.tiles)
      size = result.size
      expect(toHex(result.root), `size ${size}`).toBe(
        toHex(rootFromLeafHashes(leaves.slice(0, size))),
      )
    }
  })

  it('reports a missing right-edge tile as NotFound', async () => {
    await expect(
      integrate({ getTiles: async (r) => r.map(() => undefined), fromSize: 5, leafHashes: [] }),
    ).rejects.toMatchObject({ code: 'NotFound' })
  })
})
