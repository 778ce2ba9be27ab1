import { LedgerErrors } from './ledger-error.js'
import type { NodeFetcher, NodeId } from './merkle/proofs.js'
import { foldRight, perfectRoot } from './merkle/rfc6962.js'
import { decodeHashTile, encodeHashTile, TILE_HEIGHT, TILE_WIDTH, tilePath } from './tiles.js'

/** A hash tile to read: `width` hashes of tile `index` at tile `level`. */
export interface TileRequest {
  readonly level: number
  readonly index: number
  readonly width: number
}

/**
 * Reads hash tiles. Each result must hold at least the requested number of hashes (a wider
 * tile of the same index is fine: tiles only grow); `undefined` means the tile is missing.
 */
export type TileFetcher = (
  requests: readonly TileRequest[],
) => Promise<readonly (Uint8Array | undefined)[]>

/** What `integrate` produced. */
export interface IntegrateResult {
  /** New tree size. */
  readonly size: number
  /** RFC 6962 root at `size`. */
  readonly root: Uint8Array
  /** Every hash tile that changed, full or partial, by path. */
  readonly tiles: Map<string, Uint8Array>
}

/**
 * Appends leaf hashes to the tree of `fromSize` leaves and returns the changed tiles and the new
 * root, as Tessera's `Integrate` does. Pure apart from `getTiles`: it reads only the right-edge
 * partial tile of each level, since those hold the whole compact range. Deterministic, so
 * re-running it after a crash writes the same bytes (idempotent).
 */
export async function integrate(options: {
  getTiles: TileFetcher
  fromSize: number
  leafHashes: readonly Uint8Array[]
}): Promise<IntegrateResult> {
  const { fromSize, leafHashes } = options
  if (!Number.isSafeInteger(fromSize) || fromSize < 0) {
    throw new RangeError(`Cannot integrate from size ${fromSize}: it must be a safe integer ≥ 0`)
  }
  const size = fromSize + leafHashes.length
  const edges = await readEdges(options.getTiles, fromSize)
  const tiles = new Map<string, Uint8Array>()
  let append: Uint8Array[] = [...leafHashes]
  for (let level = 0; append.length > 0; level++) {
    const rowSize = Math.floor(fromSize / TILE_WIDTH ** level)
    const firstTile = Math.floor(rowSize / TILE_WIDTH)
    const row = [...(edges[level] ?? []), ...append]
    const next: Uint8Array[] = []
    let edge: Uint8Array[] = []
    for (let off = 0; off < row.length; off += TILE_WIDTH) {
      const chunk = row.slice(off, off + TILE_WIDTH)
      tiles.set(tilePath(level, firstTile + off / TILE_WIDTH, chunk.length), encodeHashTile(chunk))
      if (chunk.length === TILE_WIDTH) next.push(perfectRoot(chunk))
      else edge = chunk
    }
    edges[level] = edge
    append = next
  }
  return { size, root: rootFromEdges(edges, size), tiles }
}

/** The right-edge partial tile of every level of a tree of `size` leaves. */
async function readEdges(getTiles: TileFetcher, size: number): Promise<Uint8Array[][]> {
  const requests: TileRequest[] = []
  for (
    let level = 0, rowSize = size;
    rowSize > 0;
    level++, rowSize = Math.floor(rowSize / TILE_WIDTH)
  ) {
    const width = rowSize % TILE_WIDTH
    if (width > 0) requests.push({ level, index: Math.floor(rowSize / TILE_WIDTH), width })
  }
  const edges: Uint8Array[][] = []
  const fetched = requests.length === 0 ? [] : await getTiles(requests)
  requests.forEach((req, i) => {
    const bytes = fetched[i]
    if (bytes === undefined)
      throw LedgerErrors.notFound(`tile ${tilePath(req.level, req.index, req.width)}`)
    edges[req.level] = decodeHashTile(bytes).slice(0, req.width)
    if ((edges[req.level] as Uint8Array[]).length !== req.width) {
      throw LedgerErrors.corrupt(
        `tile ${tilePath(req.level, req.index, req.width)}`,
        'it is too short',
      )
    }
  })
  return edges
}

/** The root from the right-edge tiles: their perfect subtrees, highest level first, folded. */
function rootFromEdges(
  edges: readonly (readonly Uint8Array[] | undefined)[],
  size: number,
): Uint8Array {
  const nodes: Uint8Array[] = []
  for (let level = edges.length - 1; level >= 0; level--) {
    const rowSize = Math.floor(size / TILE_WIDTH ** level)
    const width = rowSize % TILE_WIDTH
    const edge = edges[level] ?? []
    let at = 0
    for (let chunk = TILE_WIDTH / 2; chunk >= 1; chunk /= 2) {
      if ((width & chunk) !== 0) {
        nodes.push(perfectRoot(edge.slice(at, at + chunk)))
        at += chunk
      }
    }
  }
  return foldRight(nodes)
}

/**
 * A NodeFetcher that reads perfect-subtree hashes out of the hash tiles of a tree of `size`
 * leaves: node (l, i) lives in tile level ⌊l/8⌋ and is the root of 2^(l mod 8) of its hashes.
 */
export function tileNodeFetcher(options: { size: number; getTiles: TileFetcher }): NodeFetcher {
  return async (ids: readonly NodeId[]) => {
    const requests: TileRequest[] = []
    const keyOf = new Map<string, number>()
    const plan = ids.map(({ level, index }) => {
      const tileLevel = Math.floor(level / TILE_HEIGHT)
      const count = 2 ** (level % TILE_HEIGHT)
      const rowStart = index * count
      const tileIndex = Math.floor(rowStart / TILE_WIDTH)
      const rowSize = Math.floor(options.size / TILE_WIDTH ** tileLevel)
      if (rowStart + count > rowSize) {
        throw new RangeError(
          `Cannot read node ${level}/${index}: the tree has ${options.size} leaves`,
        )
      }
      const width = Math.min(TILE_WIDTH, rowSize - tileIndex * TILE_WIDTH)
      const key = `${tileLevel}/${tileIndex}`
      let slot = keyOf.get(key)
      if (slot === undefined) {
        slot = requests.length
        keyOf.set(key, slot)
        requests.push({ level: tileLevel, index: tileIndex, width })
      }
      return { slot, offset: rowStart % TILE_WIDTH, count }
    })
    const fetched = await options.getTiles(requests)
    const decoded = requests.map((req, i) => {
      const bytes = fetched[i]
      if (bytes === undefined)
        throw LedgerErrors.notFound(`tile ${tilePath(req.level, req.index, req.width)}`)
      return decodeHashTile(bytes)
    })
    return plan.map(({ slot, offset, count }) => {
      const hashes = (decoded[slot] as Uint8Array[]).slice(offset, offset + count)
      if (hashes.length !== count)
        throw LedgerErrors.corrupt('a tile', 'it is shorter than the tree needs')
      return perfectRoot(hashes)
    })
  }
}
