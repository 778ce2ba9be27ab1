import { createLogger, type Logger } from '../core/index.js'
import { cosignatureVerifier } from './cosignature.js'
import { parseUint64, utf8Bytes } from './encoding.js'
import { formatSignatureLine, type NoteVerifier, parseNote } from './note/signed-note.js'
import type { PublishedCheckpoint } from './transparency-log.js'
import { formatAddCheckpointRequest } from './witness.js'

/** A witness the log submits its checkpoints to. */
export interface WitnessEndpoint {
  /** Submission prefix: the log POSTs `<url>/add-checkpoint`. */
  readonly url: string
  /** The witness's cosignature (type 0x04) verifier key. */
  readonly verifierKey: string
}

/** The HTTP POST witnessing uses (injectable for tests); resolves with status and body. */
export type WitnessPost = (
  url: string,
  body: string,
  signal: AbortSignal,
) => Promise<{ status: number; body: string }>

/** Options of `startWitnessing`. */
export interface WitnessingOptions {
  readonly origin: string
  readonly witnesses: readonly WitnessEndpoint[]
  /** Cosignatures a checkpoint needs before it is served (1..witnesses.length). */
  readonly quorum: number
  /** Consistency proof between two sizes of the log (the log's own `consistencyProof`). */
  readonly consistencyProof: (size1: number, size2: number) => Promise<Uint8Array[]>
  /** Called with each newly cosigned note (to persist it); failures are logged. */
  readonly onCosigned?: (note: string) => Promise<void>
  /** A cosigned note kept from before a restart, served until a newer one has the quorum. */
  readonly initial?: string
  readonly logger?: Logger
  readonly post?: WitnessPost
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number
  /** First and longest pause before retrying witnesses that failed (default 1 s, 60 s). */
  readonly retryMs?: { readonly min: number; readonly max: number }
}

/** What one witness did last, for metrics and the admin API. */
export interface WitnessEndpointStatus {
  readonly url: string
  readonly name: string
  /** The size this witness last accepted (from a 200 or its 409), 0 before any answer. */
  readonly size: number
  readonly failures: number
  readonly lastError?: string
}

/** Witnessing state of one log. */
export interface WitnessingStatus {
  readonly quorum: number
  /** Size of the newest checkpoint with a quorum of cosignatures; undefined before one. */
  readonly cosignedSize: number | undefined
  readonly witnesses: readonly WitnessEndpointStatus[]
}

/** Submits a log's checkpoints to its witnesses and keeps the newest one a quorum cosigned. */
export interface Witnessing {
  /** Hands over a newly published checkpoint; never blocks, never throws. */
  offer(checkpoint: PublishedCheckpoint): void
  /** The newest checkpoint note with a quorum of cosignature lines appended, if any yet. */
  cosigned(): string | undefined
  status(): WitnessingStatus
  /** Aborts requests in flight and stops retrying. */
  close(): Promise<void>
}

/** Failures of one witness are logged at most once per this interval. */
const LOG_EVERY_MS = 60_000

interface Peer {
  readonly url: string
  readonly verifier: NoteVerifier
  size: bigint
  failures: number
  lastError: string | undefined
  /** When a failure was last logged, and how many were not logged since. */
  loggedAt: number
  loggedKind: string
  suppressed: number
}

async function fetchPost(
  url: string,
  body: string,
  signal: AbortSignal,
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    signal,
  })
  return { status: res.status, body: await res.text() }
}

/**
 * Starts witnessing a log (c2sp.org/tlog-witness, log side). Work goes in rounds: a round takes
 * the newest offered checkpoint and submits it to every witness that has not cosigned it yet, at
 * most one request per witness at a time, each with a consistency proof from the size that
 * witness last accepted (a 409 tells that size; the request is then retried from it). Returned
 * cosignatures are verified with the configured keys. Once `quorum` witnesses cosigned the same
 * checkpoint, it becomes the served one. Witnesses that failed are retried with backoff; a newer
 * checkpoint starts a new round instead. Nothing here blocks or fails the log's writes.
 */
export function startWitnessing(options: WitnessingOptions): Witnessing {
  const n = options.witnesses.length
  if (!Number.isSafeInteger(options.quorum) || options.quorum < 1 || options.quorum > n) {
    throw new RangeError(
      `Cannot witness "${options.origin}": quorum ${options.quorum} is not between 1 and the ${n} witnesses`,
    )
  }
  const logger = (options.logger ?? createLogger('silent')).child({ ledger: options.origin })
  const post = options.post ?? fetchPost
  const timeoutMs = options.timeoutMs ?? 10_000
  const retry = options.retryMs ?? { min: 1_000, max: 60_000 }
  const peers: Peer[] = options.witnesses.map((w) => ({
    url: `${w.url.replace(/\/+$/, '')}/add-checkpoint`,
    verifier: cosignatureVerifier(w.verifierKey),
    size: 0n,
    failures: 0,
    lastError: undefined,
    loggedAt: 0,
    loggedKind: '',
    suppressed: 0,
  }))

  let cosignedNote: string | undefined
  let cosignedSize: number | undefined
  if (options.initial !== undefined) {
    const size = cosignedSizeOf(options.initial, peers, options.quorum, options.origin)
    if (size !== undefined) {
      cosignedNote = options.initial
      cosignedSize = size
    }
  }
  let latest: PublishedCheckpoint | undefined
  /** Cosignature lines collected for the checkpoint of the current round, by witness. */
  let round: { checkpoint: PublishedCheckpoint; lines: Map<number, string> } | undefined
  let loop: Promise<void> | undefined
  /** The checkpoint the last finished round was for. */
  let handled: PublishedCheckpoint | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let backoff = retry.min
  let closed = false
  const abort = new AbortController()

  /**
   * Records a failure; logs it unless one of the same kind was logged for this witness less
   * than LOG_EVERY_MS ago (a new kind, such as a 422 after timeouts, is always logged).
   */
  function fail(peer: Peer, kind: string, message: string): void {
    peer.failures++
    peer.lastError = message
    const now = Date.now()
    if (kind === peer.loggedKind && now - peer.loggedAt < LOG_EVERY_MS) {
      peer.suppressed++
      return
    }
    peer.loggedKind = kind
    logger.warn(
      { witness: peer.verifier.name, url: peer.url, suppressed: peer.suppressed },
      `Cannot get a cosignature: ${message}`,
    )
    peer.loggedAt = now
    peer.suppressed = 0
  }

  /** One witness, one checkpoint: resolves with its verified cosignature line, or undefined. */
  async function submit(peer: Peer, cp: PublishedCheckpoint): Promise<string | undefined> {
    const size = cp.checkpoint.size
    for (let attempt = 0; attempt < 3; attempt++) {
      const old = peer.size
      if (old > size) {
        fail(
          peer,
          'ahead',
          `witness "${peer.verifier.name}" has cosigned size ${old}, beyond this checkpoint's ${size}: it saw a longer history of "${options.origin}"`,
        )
        return undefined
      }
      let answer: { status: number; body: string }
      try {
        const proof =
          old === 0n || old === size
            ? []
            : await options.consistencyProof(Number(old), Number(size))
        const body = formatAddCheckpointRequest({ oldSize: old, proof, checkpoint: cp.note })
        const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)])
        answer = await post(peer.url, body, signal)
      } catch (err) {
        if (closed) return undefined
        fail(
          peer,
          'unreachable',
          `${peer.url}: ${err instanceof Error ? err.message : String(err)}`,
        )
        return undefined
      }
      if (answer.status === 409) {
        const reported = parseUint64(answer.body.trim())
        if (reported === undefined) {
          fail(peer, 'no-size', `${peer.url} answered 409 without a size`)
          return undefined
        }
        peer.size = reported
        continue
      }
      if (answer.status !== 200) {
        fail(
          peer,
          `status-${answer.status}`,
          `${peer.url} answered ${answer.status}: ${answer.body.trim().slice(0, 300)}`,
        )
        return undefined
      }
      const line = verifiedLine(cp.note, answer.body, peer.verifier)
      if (line === undefined) {
        fail(
          peer,
          'bad-cosignature',
          `${peer.url} answered 200 without a valid cosignature by "${peer.verifier.name}+${peer.verifier.keyId}"`,
        )
        return undefined
      }
      peer.size = size
      if (peer.failures > 0 && peer.lastError !== undefined) {
        logger.info({ witness: peer.verifier.name }, 'Witness cosigns again')
      }
      peer.lastError = undefined
      return line
    }
    fail(peer, 'conflicts', `${peer.url} kept answering 409 (now at size ${peer.size})`)
    return undefined
  }

  /** Runs one round for `cp`; true when every witness has cosigned it. */
  /** Serializes writes of the cosigned note. */
  let persisting: Promise<void> = Promise.resolve()

  /** Serves `cp` with the lines collected so far once they reach the quorum. */
  function serveIfQuorum(cp: PublishedCheckpoint, lines: ReadonlyMap<number, string>): void {
    const size = Number(cp.checkpoint.size)
    if (lines.size < options.quorum || (cosignedSize !== undefined && size < cosignedSize)) return
    const note =
      cp.note +
      [...lines.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, l]) => l)
        .join('')
    if (note === cosignedNote) return
    cosignedNote = note
    cosignedSize = size
    const persist = options.onCosigned
    if (persist === undefined) return
    persisting = persisting.then(() =>
      persist(note).catch((err: unknown) => {
        logger.error({ err }, 'Cannot persist the cosigned checkpoint')
      }),
    )
  }

  /**
   * Runs one round for `cp`; true when every witness has cosigned it. The checkpoint is served
   * as soon as the quorum is in, without waiting for slower witnesses.
   */
  async function runRound(cp: PublishedCheckpoint): Promise<boolean> {
    if (round?.checkpoint !== cp) round = { checkpoint: cp, lines: new Map() }
    const current = round
    await Promise.all(
      peers.map(async (peer, i) => {
        if (current.lines.has(i)) return
        const line = await submit(peer, cp)
        if (line === undefined) return
        current.lines.set(i, line)
        serveIfQuorum(cp, current.lines)
      }),
    )
    await persisting
    return current.lines.size === peers.length
  }

  async function run(): Promise<void> {
    // Never on the caller's stack: offer() is called as the log publishes.
    await new Promise((resolve) => setImmediate(resolve))
    while (!closed && latest !== undefined) {
      const cp = latest
      const done = await runRound(cp)
      handled = cp
      if (closed || latest !== cp) continue
      if (done) {
        backoff = retry.min
        return
      }
      // Some witness failed and nothing newer came: try again later.
      retryTimer = setTimeout(() => {
        retryTimer = undefined
        kick()
      }, backoff)
      retryTimer.unref()
      backoff = Math.min(backoff * 2, retry.max)
      return
    }
  }

  function kick(): void {
    if (closed || loop !== undefined) return
    clearTimeout(retryTimer)
    retryTimer = undefined
    loop = run()
      .catch((err: unknown) => logger.error({ err }, 'Witnessing failed'))
      .finally(() => {
        loop = undefined
        // A checkpoint offered while the loop was returning would otherwise wait for the next.
        if (!closed && latest !== handled && retryTimer === undefined) kick()
      })
  }

  return {
    offer(checkpoint) {
      if (closed) return
      if (latest !== undefined && checkpoint.checkpoint.size < latest.checkpoint.size) return
      const fresh = latest?.note !== checkpoint.note
      latest = checkpoint
      if (fresh) {
        backoff = retry.min
        kick()
      }
    },
    cosigned: () => cosignedNote,
    status: () => ({
      quorum: options.quorum,
      cosignedSize,
      witnesses: peers.map((p) => ({
        url: p.url,
        name: p.verifier.name,
        size: Number(p.size),
        failures: p.failures,
        ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      })),
    }),
    async close() {
      closed = true
      clearTimeout(retryTimer)
      abort.abort()
      await loop
    },
  }
}

/** The line of `body` by `verifier` that verifies over `note`'s text, or undefined. */
function verifiedLine(note: string, body: string, verifier: NoteVerifier): string | undefined {
  let text: string
  let signatures: ReturnType<typeof parseNote>['signatures']
  try {
    ;({ text, signatures } = parseNote(note + body))
  } catch {
    return undefined
  }
  const bytes = utf8Bytes(text)
  const own = parseNote(note).signatures.length
  const sig = signatures
    .slice(own)
    .find(
      (s) =>
        s.name === verifier.name &&
        s.keyId === verifier.keyId &&
        verifier.verify(bytes, s.signature),
    )
  return sig === undefined ? undefined : formatSignatureLine(sig)
}

/** The size of a kept cosigned note if it still has `quorum` valid cosignatures of `peers`. */
function cosignedSizeOf(
  note: string,
  peers: readonly Peer[],
  quorum: number,
  origin: string,
): number | undefined {
  try {
    const { text, signatures } = parseNote(note)
    const lines = text.split('\n')
    if (lines[0] !== origin) return undefined
    const bytes = utf8Bytes(text)
    const valid = peers.filter((p) =>
      signatures.some(
        (s) =>
          s.name === p.verifier.name &&
          s.keyId === p.verifier.keyId &&
          p.verifier.verify(bytes, s.signature),
      ),
    ).length
    return valid >= quorum ? Number(lines[1]) : undefined
  } catch {
    return undefined
  }
}
