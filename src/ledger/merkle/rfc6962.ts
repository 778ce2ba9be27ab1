import { createHash } from 'node:crypto'

/** Bytes in a SHA-256 hash, the only hash RFC 6962 logs in Sovra use. */
export const HASH_SIZE = 32

const LEAF_PREFIX = Uint8Array.of(0x00)
const NODE_PREFIX = Uint8Array.of(0x01)

/** RFC 6962 leaf hash: `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(entry).digest())
}

/**
 * RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`. The 0x00/0x01 prefixes are the
 * domain separation that stops a 64-byte leaf from passing as an interior node.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest(),
  )
}

/** The root of the empty tree, `SHA-256("")` (not the hash of an empty leaf). */
export function emptyRoot(): Uint8Array {
  return new Uint8Array(createHash('sha256').digest())
}

/**
 * Merkle Tree Hash (RFC 6962 §2.1) of a list of leaf hashes: split at the largest power of two
 * below n, never pad or duplicate the last node. Computed with a stack (compact range), O(n).
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot()
  // stack[i] holds a perfect subtree of 2^levels[i] leaves; sizes strictly decrease.
  const stack: Uint8Array[] = []
  const levels: number[] = []
  for (const leaf of leafHashes) {
    let hash = leaf
    let level = 0
    while (levels.length > 0 && levels[levels.length - 1] === level) {
      hash = nodeHash(stack.pop() as Uint8Array, hash)
      levels.pop()
      level++
    }
    stack.push(hash)
    levels.push(level)
  }
  return foldRight(stack)
}

/** Merkle Tree Hash of raw entries. */
export function rootOfEntries(entries: readonly Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(entries.map(leafHash))
}

/**
 * Folds perfect subtrees of strictly decreasing size, left to right, into the root of their
 * concatenation: `H(a, H(b, H(c, d)))`. This is how RFC 6962 shapes the right edge.
 */
export function foldRight(nodes: readonly Uint8Array[]): Uint8Array {
  if (nodes.length === 0) return emptyRoot()
  let hash = nodes[nodes.length - 1] as Uint8Array
  for (let i = nodes.length - 2; i >= 0; i--) hash = nodeHash(nodes[i] as Uint8Array, hash)
  return hash
}

/** Root of a perfect subtree given its 2^k leaf-level hashes (k ≥ 0). */
export function perfectRoot(hashes: readonly Uint8Array[]): Uint8Array {
  let row = hashes.slice()
  if (row.length === 0 || (row.length & (row.length - 1)) !== 0) {
    throw new RangeError(`Cannot hash a perfect subtree of ${row.length} nodes: not a power of two`)
  }
  while (row.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < row.length; i += 2)
      next.push(nodeHash(row[i] as Uint8Array, row[i + 1] as Uint8Array))
    row = next
  }
  return row[0] as Uint8Array
}
