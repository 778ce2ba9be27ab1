import { bytesEqual } from '../encoding.js'
import { foldRight, HASH_SIZE, nodeHash, perfectRoot } from './rfc6962.js'

/**
 * A perfect subtree: `2^level` leaves starting at leaf `index · 2^level`. Level 0 nodes are leaf
 * hashes. Proofs are built from these, so any store that can produce perfect-subtree hashes
 * (tiles, a database, an in-memory list) can serve proofs.
 */
export interface NodeId {
  readonly level: number
  readonly index: number
}

/** Fetches the hashes of perfect subtrees, in the order asked. May be sync or async. */
export type NodeFetcher = (
  ids: readonly NodeId[],
) => Promise<readonly Uint8Array[]> | readonly Uint8Array[]

/**
 * Which nodes make up an inclusion proof for leaf `index` in a tree of `size` leaves (RFC 9162
 * §2.1.3.1 PATH). Each element is one proof hash, the right fold of the listed perfect subtrees
 * (one node, except for a sibling on the ragged right edge). Ordered from the leaf upward.
 */
export function inclusionProofNodes(index: number, size: number): NodeId[][] {
  checkSize(size)
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`Cannot build an inclusion proof for index ${index}: tree size is ${size}`)
  }
  const components: NodeId[][] = []
  let lo = 0
  let n = size
  let m = index
  while (n > 1) {
    const k = splitPoint(n)
    if (m < k) {
      components.push(rangeNodes(lo + k, lo + n))
      n = k
    } else {
      components.push([{ level: log2(k), index: lo / k }])
      lo += k
      m -= k
      n -= k
    }
  }
  return components.reverse()
}

/**
 * Which nodes make up a consistency proof from `size1` to `size2` (RFC 9162 §2.1.4.1
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true)), in the RFC's order. Empty when the sizes are equal;
 * `size1` must be > 0.
 */
export function consistencyProofNodes(size1: number, size2: number): NodeId[][] {
  checkSize(size2)
  if (!Number.isSafeInteger(size1) || size1 <= 0 || size1 > size2) {
    throw new RangeError(
      `Cannot build a consistency proof from size ${size1}: it must be in 1..${size2}`,
    )
  }
  const components: NodeId[][] = []
  let lo = 0
  let n = size2
  let m = size1
  let complete = true
  for (;;) {
    if (m === n) {
      if (!complete) components.push(rangeNodes(lo, lo + n))
      break
    }
    const k = splitPoint(n)
    if (m <= k) {
      components.push(rangeNodes(lo + k, lo + n))
      n = k
    } else {
      components.push([{ level: log2(k), index: lo / k }])
      lo += k
      m -= k
      n -= k
      complete = false
    }
  }
  return components.reverse()
}

/** Builds an inclusion proof from whatever store `getNodes` reads. */
export async function inclusionProof(options: {
  index: number
  size: number
  getNodes: NodeFetcher
}): Promise<Uint8Array[]> {
  return assemble(inclusionProofNodes(options.index, options.size), options.getNodes)
}

/** Builds a consistency proof from whatever store `getNodes` reads. */
export async function consistencyProof(options: {
  size1: number
  size2: number
  getNodes: NodeFetcher
}): Promise<Uint8Array[]> {
  return assemble(consistencyProofNodes(options.size1, options.size2), options.getNodes)
}

/** The root of a tree of `size` leaves, from its perfect subtrees (the compact range). */
export async function treeRoot(options: {
  size: number
  getNodes: NodeFetcher
}): Promise<Uint8Array> {
  checkSize(options.size)
  const ids = rangeNodes(0, options.size)
  const hashes = await options.getNodes(ids)
  return foldRight(hashes)
}

/** Fetches every node of a plan in one call and folds each component into one proof hash. */
export async function assemble(
  plan: readonly NodeId[][],
  getNodes: NodeFetcher,
): Promise<Uint8Array[]> {
  const ids = plan.flat()
  const hashes = await getNodes(ids)
  if (hashes.length !== ids.length) {
    throw new RangeError(
      `Cannot assemble a proof: asked for ${ids.length} nodes, got ${hashes.length}`,
    )
  }
  const out: Uint8Array[] = []
  let at = 0
  for (const component of plan) {
    out.push(foldRight(hashes.slice(at, at + component.length)))
    at += component.length
  }
  return out
}

/**
 * A NodeFetcher over an in-memory list of leaf hashes (tests, small trees). Cost is O(2^level)
 * per node.
 */
export function memoryNodeFetcher(leafHashes: readonly Uint8Array[]): NodeFetcher {
  return (ids) =>
    ids.map(({ level, index }) => {
      const start = index * 2 ** level
      const end = start + 2 ** level
      if (end > leafHashes.length) {
        throw new RangeError(
          `Cannot read node ${level}/${index}: the tree has ${leafHashes.length} leaves`,
        )
      }
      return perfectRoot(leafHashes.slice(start, end))
    })
}

/**
 * The perfect subtrees covering leaves [start, end), largest first. `start` must be a multiple
 * of the largest power of two ≤ end - start, which holds for every range RFC 6962 splits off.
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = []
  let at = start
  let remaining = end - start
  let size = 1
  while (size * 2 <= remaining) size *= 2
  while (remaining > 0) {
    if (remaining >= size) {
      out.push({ level: log2(size), index: at / size })
      at += size
      remaining -= size
    }
    size /= 2
  }
  return out
}

/** Everything a verifier needs for an inclusion proof. */
export interface InclusionCheck {
  readonly index: bigint | number
  readonly size: bigint | number
  readonly leafHash: Uint8Array
  readonly proof: readonly Uint8Array[]
  readonly root: Uint8Array
}

/**
 * RFC 9162 §2.1.3.2: true when `proof` shows `leafHash` at `index` in the tree of `size` with
 * `root`. Every hash must be 32 bytes. Sizes are bigints inside (uint64 safe).
 */
export function verifyInclusion(check: InclusionCheck): boolean {
  const index = BigInt(check.index)
  const size = BigInt(check.size)
  if (index < 0n || index >= size) return false
  if (!allHashes([check.leafHash, check.root, ...check.proof])) return false
  let fn = index
  let sn = size - 1n
  let r = check.leafHash
  for (const p of check.proof) {
    if (sn === 0n) return false
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r)
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n
          sn >>= 1n
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn >>= 1n
    sn >>= 1n
  }
  return sn === 0n && bytesEqual(r, check.root)
}

/** Everything a verifier needs for a consistency proof. */
export interface ConsistencyCheck {
  readonly size1: bigint | number
  readonly size2: bigint | number
  readonly root1: Uint8Array
  readonly root2: Uint8Array
  readonly proof: readonly Uint8Array[]
}

/**
 * RFC 9162 §2.1.4.2 with transparency-dev/merkle's edge cases: size1 = 0 is rejected (a proof
 * from the empty tree is meaningless; the witness handles old size 0 itself), size1 = size2
 * needs an empty proof and equal roots, size1 > size2 is rejected.
 */
export function verifyConsistency(check: ConsistencyCheck): boolean {
  const size1 = BigInt(check.size1)
  const size2 = BigInt(check.size2)
  if (size1 <= 0n || size2 < size1) return false
  if (size1 === size2) return check.proof.length === 0 && bytesEqual(check.root1, check.root2)
  if (check.proof.length === 0) return false
  if (!allHashes([check.root1, check.root2, ...check.proof])) return false
  const path = [...check.proof]
  if ((size1 & (size1 - 1n)) === 0n) path.unshift(check.root1)
  let fn = size1 - 1n
  let sn = size2 - 1n
  while ((fn & 1n) === 1n) {
    fn >>= 1n
    sn >>= 1n
  }
  let fr = path[0] as Uint8Array
  let sr = fr
  for (const c of path.slice(1)) {
    if (sn === 0n) return false
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n
        sn >>= 1n
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn >>= 1n
    sn >>= 1n
  }
  return sn === 0n && bytesEqual(fr, check.root1) && bytesEqual(sr, check.root2)
}

function allHashes(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h.byteLength === HASH_SIZE)
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot use tree size ${size}: it must be a safe non-negative integer`)
  }
}

/** Largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function log2(powerOfTwo: number): number {
  let level = 0
  let k = powerOfTwo
  while (k > 1) {
    k /= 2
    level++
  }
  return level
}
