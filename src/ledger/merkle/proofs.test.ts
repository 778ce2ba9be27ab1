import { describe, expect, it } from 'vitest'
import { toHex } from '../encoding.js'
import { hex, loadVectors } from '../test-fixtures.js'
import {
  consistencyProof,
  inclusionProof,
  memoryNodeFetcher,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './proofs.js'
import { leafHash, rootFromLeafHashes } from './rfc6962.js'

interface InclusionVector {
  desc?: string
  leafIndex: number
  treeSize: number
  leafHash: string
  proof: string[]
  root: string
  wantErr?: boolean
}
interface ConsistencyVector {
  desc?: string
  size1: number
  size2: number
  root1: string
  root2: string
  proof: string[]
  wantErr?: boolean
}
interface VectorFile<V> {
  sets: Array<{ name: string; vectors: V[] }>
}

const inclusion = loadVectors<VectorFile<InclusionVector>>('inclusion.json')
const consistency = loadVectors<VectorFile<ConsistencyVector>>('consistency.json')
const roots = loadVectors<{ trees: Array<{ name: string; leaves?: string[] }> }>(
  'rfc6962-roots.json',
)

function treeLeafHashes(name: string): Uint8Array[] {
  const tree = roots.trees.find((t) => t.name === name)
  return (tree?.leaves ?? []).map((l) => leafHash(hex(l)))
}
/** Which published tree each vector set was generated over. */
const TREE_OF_SET: Record<string, string> = {
  'transparency-dev-merkle-probes': 'ct-reference-8',
  'ct-cpp-known-answers': 'ct-reference-8',
  'tessera-testdata-exhaustive-derived': 'tessera-testdata-15',
}

describe('verifyInclusion() (inclusion.json)', () => {
  for (const set of inclusion.sets) {
    it(`accepts every valid and rejects every broken case of "${set.name}"`, () => {
      for (const v of set.vectors) {
        const ok = verifyInclusion({
          index: v.leafIndex,
          size: v.treeSize,
          leafHash: hex(v.leafHash),
          proof: v.proof.map(hex),
          root: hex(v.root),
        })
        expect(ok, `${v.desc ?? ''} ${v.leafIndex}/${v.treeSize}`).toBe(!v.wantErr)
      }
    })
  }
})

describe('inclusionProof() (inclusion.json)', () => {
  for (const set of inclusion.sets) {
    it(`rebuilds the proof of every valid case of "${set.name}"`, async () => {
      const leaves = treeLeafHashes(TREE_OF_SET[set.name] ?? '')
      const getNodes = memoryNodeFetcher(leaves)
      let rebuilt = 0
      for (const v of set.vectors) {
        if (v.wantErr || v.treeSize > leaves.length) continue
        if (toHex(leaves[v.leafIndex] as Uint8Array) !== v.leafHash) continue
        if (toHex(rootFromLeafHashes(leaves.slice(0, v.treeSize))) !== v.root) continue
        const proof = await inclusionProof({ index: v.leafIndex, size: v.treeSize, getNodes })
        expect(proof.map(toHex), `${v.leafIndex}/${v.treeSize}`).toEqual(v.proof)
        rebuilt++
      }
      expect(rebuilt).toBeGreaterThan(0)
    })
  }
})

describe('verifyConsistency() (consistency.json)', () => {
  for (const set of consistency.sets) {
    it(`accepts every valid and rejects every broken case of "${set.name}"`, () => {
      for (const v of set.vectors) {
        const ok = verifyConsistency({
          size1: v.size1,
          size2: v.size2,
          root1: hex(v.root1),
          root2: hex(v.root2),
          proof: v.proof.map(hex),
        })
        expect(ok, `${v.desc ?? ''} ${v.size1}->${v.size2}`).toBe(!v.wantErr)
      }
    })
  }
})

describe('consistencyProof() (consistency.json)', () => {
  for (const set of consistency.sets) {
    it(`rebuilds the proof of every valid case of "${set.name}"`, async () => {
      const leaves = treeLeafHashes(TREE_OF_SET[set.name] ?? '')
      const getNodes = memoryNodeFetcher(leaves)
      let rebuilt = 0
      for (const v of set.vectors) {
        if (v.wantErr || v.size1 === 0 || v.size2 > leaves.length) continue
        if (toHex(rootFromLeafHashes(leaves.slice(0, v.size2))) !== v.root2) continue
        const proof = await consistencyProof({ size1: v.size1, size2: v.size2, getNodes })
        expect(proof.map(toHex), `${v.size1}->${v.size2}`).toEqual(v.proof)
        rebuilt++
      }
      expect(rebuilt).toBeGreaterThan(0)
    })
  }

  it('treeRoot() folds the compact range into the RFC 6962 root', async () => {
    const leaves = treeLeafHashes('tessera-testdata-15')
    for (let size = 1; size <= leaves.length; size++) {
      const root = await treeRoot({ size, getNodes: memoryNodeFetcher(leaves) })
      expect(toHex(root)).toBe(toHex(rootFromLeafHashes(leaves.slice(0, size))))
    }
  })

  it('inclusionProof() rejects an index outside the tree', async () => {
    await expect(inclusionProof({ index: 3, size: 3, getNodes: () => [] })).rejects.toThrow(
      RangeError,
    )
  })
})
