import { type Checkpoint, openCheckpoint } from './checkpoint.js'
import { fromBase64Strict, parseUint64, toBase64 } from './encoding.js'
import { LedgerErrors } from './ledger-error.js'
import { verifyInclusion } from './merkle/proofs.js'
import type { NoteVerifier } from './note/signed-note.js'

/**
 * c2sp.org/tlog-proof@v1: a self-contained receipt for one entry — its index, the inclusion
 * proof and the (cosigned) checkpoint it is proven against. Verifiable offline.
 */

const HEADER = 'c2sp.org/tlog-proof@v1'

/** A parsed tlog-proof. */
export interface TlogProof {
  /** Unauthenticated application data (`extra` line), if any. */
  readonly extra?: Uint8Array
  readonly index: bigint
  /** Inclusion proof hashes, leaf sibling first. */
  readonly proof: readonly Uint8Array[]
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string
}

/** Formats a tlog-proof. */
export function formatTlogProof(p: TlogProof): string {
  const extra = p.extra === undefined ? '' : `extra ${toBase64(p.extra)}\n`
  const proof = p.proof.map((h) => `${toBase64(h)}\n`).join('')
  return `${HEADER}\n${extra}index ${p.index.toString()}\n${proof}\n${p.checkpoint}`
}

/** Parses a tlog-proof strictly. Throws SyntaxError. */
export function parseTlogProof(text: string): TlogProof {
  const lines = text.split('\n')
  let at = 0
  const next = () => {
    const line = lines[at++]
    if (line === undefined) throw new SyntaxError('Cannot parse tlog-proof: it ends too early')
    return line
  }
  if (next() !== HEADER)
    throw new SyntaxError(`Cannot parse tlog-proof: the first line is not "${HEADER}"`)
  let line = next()
  let extra: Uint8Array | undefined
  if (line.startsWith('extra ')) {
    extra = fromBase64Strict(line.slice(6))
    if (extra === undefined) throw new SyntaxError('Cannot parse tlog-proof: extra is not base64')
    line = next()
  }
  const index = line.startsWith('index ') ? parseUint64(line.slice(6)) : undefined
  if (index === undefined) throw new SyntaxError('Cannot parse tlog-proof: no "index <n>" line')
  const proof: Uint8Array[] = []
  for (line = next(); line !== ''; line = next()) {
    const hash = fromBase64Strict(line)
    if (hash === undefined || hash.byteLength !== 32) {
      throw new SyntaxError('Cannot parse tlog-proof: a proof line is not a base64 32-byte hash')
    }
    proof.push(hash)
  }
  const checkpoint = lines.slice(at).join('\n')
  return { ...(extra === undefined ? {} : { extra }), index, proof, checkpoint }
}

/**
 * Verifies a tlog-proof for an entry's leaf hash: the checkpoint is signed by the log (origin
 * checked), at least `minCosignatures` of `witnessVerifiers` cosigned it, and the inclusion
 * proof holds. Returns the checkpoint; throws LedgerError otherwise.
 */
export function verifyTlogProof(
  text: string,
  options: {
    leafHash: Uint8Array
    origin: string
    logVerifiers: readonly NoteVerifier[]
    witnessVerifiers?: readonly NoteVerifier[]
    minCosignatures?: number
  },
): Checkpoint {
  const parsed = parseTlogProof(text)
  const witnesses = options.witnessVerifiers ?? []
  const opened = openCheckpoint(parsed.checkpoint, {
    origin: options.origin,
    logVerifiers: options.logVerifiers,
    otherVerifiers: witnesses,
  })
  const cosigned = opened.note.verified.filter((s) =>
    witnesses.some((w) => w.name === s.name && w.keyId === s.keyId),
  ).length
  if (cosigned < (options.minCosignatures ?? 0)) {
    throw LedgerErrors.unverifiedNote(
      `${cosigned} witnesses cosigned, ${options.minCosignatures} are required`,
    )
  }
  const cp = opened.checkpoint
  const ok = verifyInclusion({
    index: parsed.index,
    size: cp.size,
    leafHash: options.leafHash,
    proof: parsed.proof,
    root: cp.root,
  })
  if (!ok)
    throw LedgerErrors.corrupt('the tlog-proof', `entry ${parsed.index} is not in tree ${cp.size}`)
  return cp
}
