import {
  type Checkpoint,
  consistencyProof,
  decodeEntryBundle,
  decodeHashTile,
  ed25519Verifier,
  emptyRoot,
  entriesPath,
  inclusionProof,
  integrate,
  leafHash,
  type NoteVerifier,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseTilePath,
  parseVerifierKey,
  TILE_WIDTH,
  type TileFetcher,
  tileNodeFetcher,
  tileWidth,
  treeRoot,
  verifierFromKey,
  verifyConsistency,
  verifyInclusion,
} from '../../ledger/index.js'
import { LedgerCheckFailed } from './check-failed.js'
import { mapLimit, type TlogReader } from './tlog-client.js'

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

/** A checkpoint whose log signature (and witness quorum, if asked) verified. */
export interface VerifiedCheckpoint {
  readonly note: string
  readonly checkpoint: Checkpoint
  /** Tree size as a number (the CLI refuses logs beyond 2^53 entries). */
  readonly size: number
  /** Names of the required witnesses whose cosignature verified. */
  readonly cosigners: readonly string[]
}

/** The origin a verifier key stands for: a Sovra log key's name is its checkpoint origin. */
export function originOfKey(verifierKey: string): string {
  return parseVerifierKey(verifierKey).name
}

/**
 * Checks a signed checkpoint: well formed, the expected origin (the log key's name), a valid
 * signature by the log key, and at least `quorum` valid cosignatures by `witnesses` (c2sp.org
 * tlog-cosignature keys). Throws LedgerCheckFailed saying which of these failed.
 */
export function checkCheckpoint(
  note: string,
  options: { verifierKey: string; witnesses?: readonly string[]; quorum?: number },
): VerifiedCheckpoint {
  const origin = originOfKey(options.verifierKey)
  let text: string
  let signatures: ReturnType<typeof parseNote>['signatures']
  try {
    ;({ text, signatures } = parseNote(note))
  } catch (err) {
    throw new LedgerCheckFailed(`checkpoint: the signed note is malformed: ${msg(err)}`)
  }
  let body: Checkpoint
  try {
    body = parseCheckpoint(text)
  } catch (err) {
    throw new LedgerCheckFailed(`checkpoint: the body is malformed: ${msg(err)}`)
  }
  if (body.origin !== origin) {
    throw new LedgerCheckFailed(
      `origin: the checkpoint is for "${body.origin}", but the verifier key is for "${origin}"`,
    )
  }
  let checkpoint: Checkpoint
  try {
    checkpoint = openCheckpoint(note, {
      origin,
      logVerifiers: [ed25519Verifier(options.verifierKey)],
    }).checkpoint
  } catch (err) {
    throw new LedgerCheckFailed(
      `signature: the checkpoint (size ${body.size}) has no valid signature by the log key ${keyLabel(options.verifierKey)}: ${msg(err)}`,
    )
  }
  if (checkpoint.size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`Cannot check a log of ${checkpoint.size} entries: more than 2^53`)
  }
  const witnesses = options.witnesses ?? []
  const quorum = options.quorum ?? witnesses.length
  const cosigners: string[] = []
  if (witnesses.length > 0 || quorum > 0) {
    const textBytes = new TextEncoder().encode(text)
    const invalid: string[] = []
    const missing: string[] = []
    for (const key of witnesses) {
      const verifier: NoteVerifier = verifierFromKey(key)
      const sigs = signatures.filter((s) => s.name === verifier.name && s.keyId === verifier.keyId)
      if (sigs.length === 0) missing.push(verifier.name)
      else if (!sigs.some((s) => verifier.verify(textBytes, s.signature)))
        invalid.push(verifier.name)
      else cosigners.push(verifier.name)
    }
    const names = (list: readonly string[]) => list.map((n) => `"${n}"`).join(', ')
    const tally = `${cosigners.length} valid cosignature(s) of the ${witnesses.length} given witnesses, ${quorum} required`
    const detail = [
      ...(cosigners.length > 0 ? [`cosigned by ${names(cosigners)}`] : []),
      ...(missing.length > 0 ? [`no cosignature from ${names(missing)}`] : []),
    ].join('; ')
    if (invalid.length > 0) {
      // A cosignature by a known key that does not verify rejects the note (c2sp signed-note).
      throw new LedgerCheckFailed(
        `witness: the cosignature${invalid.length > 1 ? 's' : ''} of ${names(invalid)} on the checkpoint (size ${checkpoint.size}) ${invalid.length > 1 ? 'do' : 'does'} not verify; ${tally}${detail === '' ? '' : ` (${detail})`}`,
      )
    }
    if (cosigners.length < quorum) {
      throw new LedgerCheckFailed(
        `witness quorum: the checkpoint (size ${checkpoint.size}) has ${tally}${detail === '' ? '' : ` (${detail})`}`,
      )
    }
  }
  return { note, checkpoint, size: Number(checkpoint.size), cosigners }
}

/**
 * Checks that `current` extends `saved` (the last checkpoint this monitor accepted): same root
 * at the same size, a valid RFC 9162 consistency proof built from the served tiles otherwise.
 * A smaller size is a rollback, a different root at the same size a fork.
 */
export async function checkConsistency(options: {
  saved: Checkpoint
  current: Checkpoint
  getTiles: TileFetcher
}): Promise<void> {
  const { saved, current } = options
  const where = `consistency with size ${saved.size} (the checkpoint this monitor saw last)`
  if (current.size < saved.size) {
    throw new LedgerCheckFailed(
      `${where}: the log now shows size ${current.size}, smaller than before: it was rolled back or forked`,
    )
  }
  if (current.size === saved.size) {
    if (!same(current.root, saved.root)) {
      throw new LedgerCheckFailed(
        `${where}: fork: the log signed two different roots for size ${saved.size} (seen before ${b64(saved.root)}, now ${b64(current.root)})`,
      )
    }
    return
  }
  if (saved.size === 0n) {
    if (!same(saved.root, emptyRoot())) {
      throw new LedgerCheckFailed(`${where}: the saved size-0 checkpoint has a non-empty root`)
    }
    return
  }
  const size1 = Number(saved.size)
  const size2 = Number(current.size)
  const proof = await consistencyProof({
    size1,
    size2,
    getNodes: tileNodeFetcher({ size: size2, getTiles: options.getTiles }),
  })
  if (!verifyConsistency({ size1, size2, root1: saved.root, root2: current.root, proof })) {
    throw new LedgerCheckFailed(
      `${where}: the consistency proof from the served tiles does not lead from the saved root ${b64(saved.root)} to the new root ${b64(current.root)} (size ${size2}): the log forked or its tiles were altered`,
    )
  }
}

/** Number of entry bundles (full and partial) in a log of `size` entries. */
export function bundleCount(size: number): number {
  return Math.ceil(size / TILE_WIDTH)
}

/** Tile path without the `tile/` prefix, as messages show it: `0/001.p/44`, `entries/000`. */
const shortPath = (path: string) => path.replace(/^tile\//, '')

/**
 * Fetches and decodes entry bundle `index` of a log of `size` entries; it must hold exactly the
 * entries the size implies.
 */
export async function readBundle(
  reader: TlogReader,
  index: number,
  size: number,
): Promise<Uint8Array[]> {
  const width = tileWidth(0, index, size)
  const name = `entry bundle ${shortPath(entriesPath(index, width)).replace(/^entries\//, '')}`
  const bytes = await reader.entryBundle(index, width)
  let entries: Uint8Array[]
  try {
    entries = decodeEntryBundle(bytes)
  } catch (err) {
    throw new LedgerCheckFailed(
      `${name}: cannot be decoded (${msg(err)}): an entry was cut or removed`,
    )
  }
  if (entries.length !== width) {
    throw new LedgerCheckFailed(
      `${name}: holds ${entries.length} entries where the checkpoint's size implies ${width}: an entry was ${entries.length < width ? 'dropped' : 'added'}`,
    )
  }
  return entries
}

/** What rebuilding a tree found (when it matched). */
export interface RebuildResult {
  readonly entries: number
  readonly tiles: number
  readonly bundles: number
}

/**
 * Rebuilds the whole tree of `size` leaves from the entry bundles (leaf hashes recomputed from
 * the entries, tiles recomputed upward by the library's `integrate`), compares every served hash
 * tile with the rebuilt one and the rebuilt root with `root`. When the two disagree it works out
 * which side is wrong: tiles that differ while the entries reproduce the root, or an entry that
 * differs from its leaf in tiles that do reproduce the root.
 */
export async function rebuildTree(options: {
  reader: TlogReader
  size: number
  root: Uint8Array
}): Promise<RebuildResult> {
  const { reader, size, root } = options
  if (size === 0) {
    if (!same(root, emptyRoot())) {
      throw new LedgerCheckFailed('root mismatch: a checkpoint of size 0 must carry SHA-256("")')
    }
    return { entries: 0, tiles: 0, bundles: 0 }
  }
  const bundles = bundleCount(size)
  const leafHashes = (
    await mapLimit(
      Array.from({ length: bundles }, (_, i) => i),
      16,
      async (i) => (await readBundle(reader, i, size)).map(leafHash),
    )
  ).flat()
  const rebuilt = await integrate({ getTiles: async () => [], fromSize: 0, leafHashes })
  const paths = [...rebuilt.tiles.keys()]
  const served = await mapLimit(paths, 16, (path) => {
    const tile = parseTilePath(path)
    if (tile.kind !== 'hashes') throw new Error(`Cannot read ${path}: not a hash tile`)
    return reader.tile(tile.level, Number(tile.index), tile.width)
  })
  const mismatches: string[] = []
  paths.forEach((path, i) => {
    const ours = rebuilt.tiles.get(path) as Uint8Array
    const theirs = served[i] as Uint8Array
    if (same(ours, theirs)) return
    let at = 0
    let theirHashes: Uint8Array[] = []
    try {
      theirHashes = decodeHashTile(theirs)
    } catch {
      // a tile of the wrong length differs at its first hash
    }
    const ourHashes = decodeHashTile(ours)
    while (
      at < ourHashes.length &&
      same(ourHashes[at] as Uint8Array, theirHashes[at] ?? new Uint8Array())
    )
      at++
    mismatches.push(`tile ${shortPath(path)} hash mismatch at hash ${at}`)
  })
  if (same(rebuilt.root, root)) {
    if (mismatches.length > 0) {
      throw new LedgerCheckFailed(
        `${mismatches[0]}: the served tile differs from the tree rebuilt from the entries, which matches the checkpoint's root${mismatches.length > 1 ? ` (${mismatches.length} tiles differ)` : ''}`,
      )
    }
    return { entries: size, tiles: paths.length, bundles }
  }
  // The entries do not reproduce the signed root. If the served tiles do, an entry is wrong.
  let servedRoot: Uint8Array | undefined
  try {
    servedRoot = await treeRoot({
      size,
      getNodes: tileNodeFetcher({ size, getTiles: reader.getTiles }),
    })
  } catch {
    servedRoot = undefined
  }
  if (servedRoot !== undefined && same(servedRoot, root)) {
    for (let b = 0; b < bundles; b++) {
      const width = tileWidth(0, b, size)
      const tile = decodeHashTile(await reader.tile(0, b, width))
      for (let j = 0; j < width; j++) {
        const leaf = leafHashes[b * TILE_WIDTH + j] as Uint8Array
        if (!same(leaf, tile[j] ?? new Uint8Array())) {
          throw new LedgerCheckFailed(
            `entry bundle ${shortPath(entriesPath(b, width)).replace(/^entries\//, '')}: entry ${j} (leaf index ${b * TILE_WIDTH + j}) does not hash to its leaf in tile 0/${shortPath(entriesPath(b, width)).replace(/^entries\//, '')}, while the tiles match the checkpoint's root: the entry was altered`,
          )
        }
      }
    }
  }
  throw new LedgerCheckFailed(
    `root mismatch: the tree rebuilt from the entries has root ${b64(rebuilt.root)}, the checkpoint (size ${size}) says ${b64(root)}${mismatches.length > 0 ? `; ${mismatches.join(', ')}` : ''}`,
  )
}

/** An inclusion proof, built from the tiles and verified. */
export interface InclusionResult {
  readonly index: number
  readonly size: number
  readonly entry: Uint8Array
  readonly leafHash: Uint8Array
  readonly proof: Uint8Array[]
  /** Root at `size` the proof verified against. */
  readonly root: Uint8Array
}

/**
 * Builds the inclusion proof of leaf `index` in the tree of `size` ≤ the checkpoint's size from
 * the served tiles and verifies it. For the checkpoint's own size it verifies against the signed
 * root; for an earlier size against the root the tiles give at that size, itself proven
 * consistent with the signed checkpoint. `entry` skips re-reading the bundle.
 */
export async function proveInclusion(options: {
  reader: TlogReader
  checkpoint: VerifiedCheckpoint
  index: number
  size?: number
  entry?: Uint8Array
}): Promise<InclusionResult> {
  const { reader, checkpoint, index } = options
  const size = options.size ?? checkpoint.size
  checkSizes(size, checkpoint.size)
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new Error(
      `Cannot prove index ${index}: the tree of size ${size} has leaves 0..${size - 1}`,
    )
  }
  const root = await rootAt(reader, checkpoint, size)
  const entry =
    options.entry ??
    ((await readBundle(reader, Math.floor(index / TILE_WIDTH), checkpoint.size))[
      index % TILE_WIDTH
    ] as Uint8Array)
  const leaf = leafHash(entry)
  const proof = await inclusionProof({
    index,
    size,
    getNodes: tileNodeFetcher({ size, getTiles: reader.getTiles }),
  })
  if (!verifyInclusion({ index, size, leafHash: leaf, proof, root })) {
    throw new LedgerCheckFailed(
      `inclusion of leaf ${index}: the proof from the served tiles does not lead from the entry's leaf hash to the root of size ${size}: the entry or a tile was altered`,
    )
  }
  return { index, size, entry, leafHash: leaf, proof, root }
}

/** A consistency proof, built from the tiles and verified. */
export interface ConsistencyResult {
  readonly size1: number
  readonly size2: number
  readonly root1: Uint8Array
  readonly root2: Uint8Array
  readonly proof: Uint8Array[]
}

/**
 * Builds and verifies the consistency proof from `size1` to `size2` (both ≤ the checkpoint's
 * size); roots below the checkpoint's size come from the tiles and are chained to it.
 */
export async function proveConsistency(options: {
  reader: TlogReader
  checkpoint: VerifiedCheckpoint
  size1: number
  size2: number
}): Promise<ConsistencyResult> {
  const { reader, checkpoint, size1, size2 } = options
  checkSizes(size2, checkpoint.size)
  if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
    throw new Error(`Cannot prove consistency from size ${size1} to ${size2}: need 0 ≤ A ≤ B`)
  }
  const root2 = await rootAt(reader, checkpoint, size2)
  const root1 = size1 === size2 ? root2 : await rootAt(reader, checkpoint, size1)
  const proof =
    size1 === 0 || size1 === size2
      ? []
      : await consistencyProof({
          size1,
          size2,
          getNodes: tileNodeFetcher({ size: size2, getTiles: reader.getTiles }),
        })
  if (size1 > 0 && !verifyConsistency({ size1, size2, root1, root2, proof })) {
    throw new LedgerCheckFailed(
      `consistency ${size1}..${size2}: the proof from the served tiles does not verify`,
    )
  }
  return { size1, size2, root1, root2, proof }
}

/**
 * The root of the tree at `size`: the signed root at the checkpoint's size; below it, the root
 * the tiles give, accepted only once a consistency proof ties it to the signed checkpoint.
 */
async function rootAt(
  reader: TlogReader,
  checkpoint: VerifiedCheckpoint,
  size: number,
): Promise<Uint8Array> {
  if (size === checkpoint.size) return checkpoint.checkpoint.root
  if (size === 0) return emptyRoot()
  let root: Uint8Array
  try {
    root = await treeRoot({ size, getNodes: tileNodeFetcher({ size, getTiles: reader.getTiles }) })
  } catch (err) {
    if (!(err instanceof LedgerCheckFailed)) throw err
    // Partial tiles exist only for sizes the log integrated to; that is not tampering.
    throw new Error(
      `Cannot use tree size ${size}: ${err.message}. The log keeps tiles for the sizes it published checkpoints at; use one of those or the current size`,
    )
  }
  await checkConsistency({
    saved: { origin: checkpoint.checkpoint.origin, size: BigInt(size), root, extensions: [] },
    current: checkpoint.checkpoint,
    getTiles: reader.getTiles,
  }).catch((err: unknown) => {
    throw new LedgerCheckFailed(
      `the tiles' root at size ${size} is not consistent with the checkpoint (size ${checkpoint.size}): ${msg(err)}`,
    )
  })
  return root
}

function checkSizes(size: number, checkpointSize: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > checkpointSize) {
    throw new Error(
      `Cannot use tree size ${size}: the current checkpoint covers ${checkpointSize} entries`,
    )
  }
}

function keyLabel(verifierKey: string): string {
  const key = parseVerifierKey(verifierKey)
  return `${key.name}+${key.keyId}`
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
