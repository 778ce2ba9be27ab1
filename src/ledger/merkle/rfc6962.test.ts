import { describe, expect, it } from 'vitest'
import { toHex } from '../encoding.js'
import { hex, loadVectors } from '../test-fixtures.js'
import { emptyRoot, leafHash, nodeHash, rootFromLeafHashes, rootOfEntries } from './rfc6962.js'

interface Roots {
  hasher: Array<{
    op: string
    data?: string
    left?: string
    right?: string
    want: string
    desc: string
  }>
  trees: Array<{
    name: string
    leaves?: string[]
    leafRule?: string
    rootsBySize: Array<{ size: number; root: string }>
    nodeHashes?: { levels: string[][] }
  }>
  pitfalls: Array<Record<string, unknown>>
}

const vectors = loadVectors<Roots>('rfc6962-roots.json')

function leavesOf(tree: Roots['trees'][number], size: number): Uint8Array[] {
  if (tree.leaves) return tree.leaves.slice(0, size).map(hex)
  return Array.from({ length: size }, (_, i) => Uint8Array.of(i))
}

describe('RFC 6962 hashing (rfc6962-roots.json)', () => {
  it.each(vectors.hasher)('$desc', (v) => {
    const got =
      v.op === 'emptyRoot'
        ? emptyRoot()
        : v.op === 'hashLeaf'
          ? leafHash(hex(v.data ?? ''))
          : nodeHash(hex(v.left ?? ''), hex(v.right ?? ''))
    expect(toHex(got)).toBe(v.want)
  })

  for (const tree of vectors.trees) {
    it(`rootFromLeafHashes() reproduces every root of tree "${tree.name}"`, () => {
      for (const { size, root } of tree.rootsBySize) {
        expect(toHex(rootOfEntries(leavesOf(tree, size))), `size ${size}`).toBe(root)
      }
    })
  }

  it('reproduces every complete-subtree node hash of ct-reference-8', () => {
    const tree = vectors.trees.find((t) => t.name === 'ct-reference-8')
    const levels = tree?.nodeHashes?.levels ?? []
    expect(levels.length).toBeGreaterThan(0)
    levels.forEach((row, level) => {
      row.forEach((want, index) => {
        const leaves = leavesOf(tree as Roots['trees'][number], 8).slice(
          index * 2 ** level,
          (index + 1) * 2 ** level,
        )
        expect(toHex(rootOfEntries(leaves))).toBe(want)
      })
    })
  })

  it('keeps leaves and nodes apart (second-preimage pitfall)', () => {
    const p = vectors.pitfalls[0] as {
      leaves: string[]
      nodeHash: string
      forgedLeafData: string
      forgedLeafHash: string
    }
    const [a, b] = p.leaves.map((l) => leafHash(hex(l))) as [Uint8Array, Uint8Array]
    expect(toHex(nodeHash(a, b))).toBe(p.nodeHash)
    expect(toHex(leafHash(hex(p.forgedLeafData)))).toBe(p.forgedLeafHash)
    expect(p.forgedLeafHash).not.toBe(p.nodeHash)
  })

  it('never duplicates the last node of an odd level', () => {
    const p = vectors.pitfalls[1] as {
      leaves: string[]
      rfc6962Root: string
      bitcoinStyleRootMustNotMatch: string
    }
    const root = toHex(rootFromLeafHashes(p.leaves.map((l) => leafHash(hex(l)))))
    expect(root).toBe(p.rfc6962Root)
    expect(root).not.toBe(p.bitcoinStyleRootMustNotMatch)
  })
})
