import { readFile } from 'node:fs/promises'
import { atomicWrite } from '../core/index.js'
import { openCheckpoint, parseCheckpoint } from './checkpoint.js'
import { bytesEqual, fromBase64Strict, fromHex, toBase64, toHex, utf8Bytes } from './encoding.js'
import { isLedgerError } from './ledger-error.js'
import { verifyConsistency } from './merkle/proofs.js'
import { emptyRoot } from './merkle/rfc6962.js'
import {
  formatSignatureLine,
  type NoteSigner,
  type NoteVerifier,
  parseNote,
} from './note/signed-note.js'

/**
 * c2sp.org/tlog-witness: the `add-checkpoint` request a log sends to a witness, the witness's
 * checks (as pure functions) and a small `Witness` that keeps the latest cosigned size per
 * origin behind a `WitnessStateStore`.
 */

/** Consistency proofs in a request have at most this many hashes. */
export const MAX_WITNESS_PROOF_HASHES = 63

/** The body of `POST <prefix>/add-checkpoint`. */
export interface AddCheckpointRequest {
  /** The size the log believes the witness has ("0" if none). */
  readonly oldSize: bigint
  /** RFC 6962 consistency proof from `oldSize` to the checkpoint's size. */
  readonly proof: readonly Uint8Array[]
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string
}

/** Formats `old <size>\n` + proof lines + `\n` + checkpoint note. */
export function formatAddCheckpointRequest(req: AddCheckpointRequest): string {
  const proof = req.proof.map((h) => `${toBase64(h)}\n`).join('')
  return `old ${req.oldSize.toString()}\n${proof}\n${req.checkpoint}`
}

/** Parses an add-checkpoint body strictly. Throws SyntaxError (the witness answers 400). */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const m = /^old (0|[1-9][0-9]{0,19})\n/.exec(body)
  if (m === null)
    throw new SyntaxError('Cannot parse add-checkpoint: the first line is not "old <size>"')
  const oldSize = BigInt(m[1] as string)
  if (oldSize > 0xffff_ffff_ffff_ffffn)
    throw new SyntaxError('Cannot parse add-checkpoint: old size overflows')
  let rest = body.slice(m[0].length)
  const proof: Uint8Array[] = []
  for (;;) {
    const nl = rest.indexOf('\n')
    if (nl < 0)
      throw new SyntaxError('Cannot parse add-checkpoint: no blank line before the checkpoint')
    const line = rest.slice(0, nl)
    rest = rest.slice(nl + 1)
    if (line === '') break
    const hash = fromBase64Strict(line)
    if (hash === undefined || hash.byteLength !== 32) {
      throw new SyntaxError(
        'Cannot parse add-checkpoint: a proof line is not a base64 32-byte hash',
      )
    }
    if (proof.length >= MAX_WITNESS_PROOF_HASHES) {
      throw new SyntaxError('Cannot parse add-checkpoint: the proof has more than 63 hashes')
    }
    proof.push(hash)
  }
  return { oldSize, proof, checkpoint: rest }
}

/** What a witness remembers per origin: the last checkpoint it cosigned. */
export interface WitnessState {
  readonly size: bigint
  readonly root: Uint8Array
}

/** A log the witness knows: its origin and the keys its checkpoints must be signed with. */
export interface WitnessedLog {
  readonly origin: string
  readonly verifiers: readonly NoteVerifier[]
}

/** The witness's answer, ready for HTTP. */
export type WitnessResponse =
  | {
      readonly status: 200
      readonly contentType: 'text/plain; charset=utf-8'
      readonly body: string
    }
  | { readonly status: 409; readonly contentType: 'text/x.tlog.size'; readonly body: string }
  | {
      readonly status: 400 | 403 | 404 | 422
      readonly contentType: 'text/plain; charset=utf-8'
      readonly body: string
    }

/** A request that passed every check: what to persist and cosign. */
export interface AcceptedCheckpoint {
  readonly status: 'accept'
  readonly origin: string
  readonly text: string
  readonly next: WitnessState
}

const TEXT = 'text/plain; charset=utf-8' as const

function reject(status: 400 | 403 | 404 | 422, body: string): WitnessResponse {
  return { status, contentType: TEXT, body: `${body}\n` }
}

/** 409 with the witness's size, as the spec requires. */
export function conflict(size: bigint): WitnessResponse {
  return { status: 409, contentType: 'text/x.tlog.size', body: `${size.toString()}\n` }
}

/**
 * Runs the tlog-witness checks, in the spec's order: malformed → 400; unknown origin → 404;
 * no trusted log signature or a failing one → 403; old size > checkpoint size → 400; old size ≠
 * the witness's size → 409; a size-0 checkpoint without the empty-tree root, a non-empty proof
 * from 0, a bad proof, or the same size with another root → 422. Pure.
 */
export function checkAddCheckpoint(options: {
  body: string
  logFor: (origin: string) => WitnessedLog | undefined
  state: (origin: string) => WitnessState | undefined
}): AcceptedCheckpoint | WitnessResponse {
  let req: AddCheckpointRequest
  let origin: string
  try {
    req = parseAddCheckpointRequest(options.body)
    const note = parseNote(req.checkpoint)
    origin = parseCheckpoint(note.text).origin
  } catch (error) {
    return reject(400, `Cannot add checkpoint: ${(error as Error).message}`)
  }
  const log = options.logFor(origin)
  if (log === undefined) return reject(404, `Cannot add checkpoint: origin "${origin}" is unknown`)
  let text: string
  let size: bigint
  let root: Uint8Array
  try {
    const opened = openCheckpoint(req.checkpoint, { origin, logVerifiers: log.verifiers })
    text = opened.note.text
    size = opened.checkpoint.size
    root = opened.checkpoint.root
  } catch (error) {
    if (isLedgerError(error)) return reject(403, `Cannot add checkpoint: ${error.message}`)
    throw error
  }
  if (req.oldSize > size) {
    return reject(
      400,
      `Cannot add checkpoint: old size ${req.oldSize} exceeds checkpoint size ${size}`,
    )
  }
  const state = options.state(origin)
  const haveSize = state?.size ?? 0n
  if (req.oldSize !== haveSize) return conflict(haveSize)
  if (size === 0n && !bytesEqual(root, emptyRoot())) {
    return reject(422, 'Cannot add checkpoint: a size-0 checkpoint must carry the empty-tree root')
  }
  if (req.oldSize === 0n) {
    if (req.proof.length > 0)
      return reject(422, 'Cannot add checkpoint: a proof from size 0 must be empty')
  } else if (req.oldSize === size) {
    const have = state?.root ?? new Uint8Array()
    if (!bytesEqual(root, have)) {
      return reject(
        422,
        `Cannot add checkpoint: fork: origin "${origin}" already has a cosigned checkpoint of size ${size} with root ${toBase64(have)}, this one has root ${toBase64(root)}`,
      )
    }
    if (req.proof.length > 0) {
      return reject(422, 'Cannot add checkpoint: a proof between equal sizes must be empty')
    }
  } else if (
    !verifyConsistency({
      size1: req.oldSize,
      size2: size,
      root1: state?.root ?? new Uint8Array(),
      root2: root,
      proof: req.proof,
    })
  ) {
    return reject(
      422,
      `Cannot add checkpoint: not consistent: the proof from size ${req.oldSize} (root ${toBase64(state?.root ?? new Uint8Array())}, cosigned before) to size ${size} (root ${toBase64(root)}) does not verify: the log forked or rewrote its history`,
    )
  }
  return { status: 'accept', origin, text, next: { size, root } }
}

/** Where a witness keeps its per-origin state. Implementations serialize `compareAndSwap`. */
export interface WitnessStateStore {
  get(origin: string, options?: { signal?: AbortSignal }): Promise<WitnessState | undefined>
  /**
   * Replaces the state of `origin` only if its size is still `expectedSize` (0 = no state), in
   * one atomic step: the old-size check and the update must not be separable, or a concurrent
   * request could roll the witness back. Resolves false when the size moved.
   */
  compareAndSwap(
    origin: string,
    expectedSize: bigint,
    next: WitnessState,
    options?: { signal?: AbortSignal },
  ): Promise<boolean>
}

/** A WitnessStateStore in memory (tests, ephemeral witnesses). */
export class MemoryWitnessStateStore implements WitnessStateStore {
  readonly #states = new Map<string, WitnessState>()
  async get(origin: string): Promise<WitnessState | undefined> {
    return this.#states.get(origin)
  }
  async compareAndSwap(origin: string, expectedSize: bigint, next: WitnessState): Promise<boolean> {
    if ((this.#states.get(origin)?.size ?? 0n) !== expectedSize) return false
    this.#states.set(origin, next)
    return true
  }
}

/** Version marker of the witness state file. */
const WITNESS_FILE_VERSION = 1

/**
 * A WitnessStateStore in one JSON file `{ "version": 1, "origins": { origin: { size, root } } }`,
 * rewritten atomically (temp → fsync → rename → fsync dir) on every accepted checkpoint.
 * Operations are serialized in-process; one process owns the file.
 */
export class JsonFileWitnessStateStore implements WitnessStateStore {
  readonly #path: string
  #states: Map<string, WitnessState> | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(path: string) {
    this.#path = path
  }

  get(origin: string, options: { signal?: AbortSignal } = {}): Promise<WitnessState | undefined> {
    return this.#serial(async () => (await this.#load(options.signal)).get(origin))
  }

  compareAndSwap(
    origin: string,
    expectedSize: bigint,
    next: WitnessState,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return this.#serial(async () => {
      const states = await this.#load(options.signal)
      if ((states.get(origin)?.size ?? 0n) !== expectedSize) return false
      const updated = new Map(states)
      updated.set(origin, next)
      const origins: Record<string, { size: string; root: string }> = {}
      for (const [o, s] of [...updated].sort(([a], [b]) => (a < b ? -1 : 1))) {
        origins[o] = { size: s.size.toString(), root: toHex(s.root) }
      }
      const json = `${JSON.stringify({ version: WITNESS_FILE_VERSION, origins }, null, 2)}\n`
      await atomicWrite(this.#path, utf8Bytes(json), { signal: options.signal })
      this.#states = updated
      return true
    })
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #load(signal: AbortSignal | undefined): Promise<Map<string, WitnessState>> {
    if (this.#states) return this.#states
    let text: string
    try {
      text = await readFile(this.#path, { encoding: 'utf8', signal })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      this.#states = new Map()
      return this.#states
    }
    const parsed = JSON.parse(text) as {
      version?: unknown
      origins?: Record<string, { size: string; root: string }>
    }
    if (parsed.version !== WITNESS_FILE_VERSION || typeof parsed.origins !== 'object') {
      throw new SyntaxError(
        `Cannot read witness state "${this.#path}": version ${String(parsed.version)} is not 1`,
      )
    }
    this.#states = new Map(
      Object.entries(parsed.origins).map(([o, s]) => [
        o,
        { size: BigInt(s.size), root: fromHex(s.root) },
      ]),
    )
    return this.#states
  }
}

/**
 * A tlog witness: checks add-checkpoint requests for the logs it knows, persists the new size
 * atomically with the old-size check, and answers with its cosignature line(s).
 */
export class Witness {
  readonly #logs: Map<string, WitnessedLog>
  readonly #signers: readonly NoteSigner[]
  readonly #store: WitnessStateStore

  constructor(options: {
    logs: readonly WitnessedLog[]
    signers: readonly NoteSigner[]
    store: WitnessStateStore
  }) {
    this.#logs = new Map(options.logs.map((l) => [l.origin, l]))
    this.#signers = options.signers
    this.#store = options.store
  }

  /** Handles one `add-checkpoint` body. */
  async addCheckpoint(
    body: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<WitnessResponse> {
    let origin: string | undefined
    try {
      origin = parseCheckpoint(parseNote(parseAddCheckpointRequest(body).checkpoint).text).origin
    } catch {
      origin = undefined
    }
    const state =
      origin === undefined || !this.#logs.has(origin)
        ? undefined
        : await this.#store.get(origin, options)
    const result = checkAddCheckpoint({
      body,
      logFor: (o) => this.#logs.get(o),
      state: () => state,
    })
    if (result.status !== 'accept') return result
    const swapped = await this.#store.compareAndSwap(
      result.origin,
      state?.size ?? 0n,
      result.next,
      options,
    )
    if (!swapped) return conflict((await this.#store.get(result.origin, options))?.size ?? 0n)
    const text = utf8Bytes(result.text)
    const lines = this.#signers
      .map((s) => formatSignatureLine({ name: s.name, keyId: s.keyId, signature: s.sign(text) }))
      .join('')
    return { status: 200, contentType: TEXT, body: lines }
  }
}
