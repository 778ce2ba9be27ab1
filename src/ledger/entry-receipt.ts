import type { Checkpoint } from './checkpoint.js'
import { parseCosignature } from './cosignature.js'
import { leafHash } from './merkle/rfc6962.js'
import { parseNote, parseVerifierKey, SignatureType } from './note/signed-note.js'
import { formatTlogProof, parseTlogProof, verifyTlogProof } from './tlog-proof.js'
import { verifierFromKey } from './verifiers.js'

/**
 * Sovra's receipt for one ledger entry: a c2sp.org/tlog-proof whose `extra` line carries the
 * entry bytes themselves. `extra` is unauthenticated in the tlog-proof format, but here it is
 * what the inclusion proof proves: the verifier hashes it as the leaf, so a changed entry no
 * longer verifies. The holder of the receipt learns the event (commitments, not customer values)
 * and can check it offline against the log's verifier key.
 */

/** The parts of an entry receipt. */
export interface EntryReceiptParts {
  /** The entry bytes (the event's canonical JSON). */
  readonly entry: Uint8Array
  readonly index: bigint
  /** Inclusion proof of `index` in the checkpoint's tree, leaf sibling first. */
  readonly proof: readonly Uint8Array[]
  /** The signed (possibly cosigned) checkpoint note, verbatim. */
  readonly checkpoint: string
}

/** A receipt that verified: the proven entry and the checkpoint it is proven against. */
export interface OpenedEntryReceipt {
  readonly entry: Uint8Array
  readonly index: bigint
  readonly checkpoint: Checkpoint
  /** Newest time a known witness cosigned the checkpoint; undefined without such cosignatures. */
  readonly cosignedAt: Date | undefined
}

/** Formats an entry receipt (a tlog-proof with `extra` = the entry). */
export function formatEntryReceipt(parts: EntryReceiptParts): string {
  return formatTlogProof({
    extra: parts.entry,
    index: parts.index,
    proof: parts.proof,
    checkpoint: parts.checkpoint,
  })
}

/**
 * Opens an entry receipt: it must parse, carry its entry, be signed by the log key
 * `logVerifierKey` (whose name is the log's origin) and prove the entry's inclusion. Cosignatures
 * by `witnessVerifierKeys` are verified and give `cosignedAt`. Throws SyntaxError (malformed) or
 * LedgerError (`UnverifiedNote`, `InvalidSignature`, `Corrupt` for a failed inclusion proof).
 */
export function openEntryReceipt(
  text: string,
  options: { logVerifierKey: string; witnessVerifierKeys?: readonly string[] },
): OpenedEntryReceipt {
  const parsed = parseTlogProof(text)
  if (parsed.extra === undefined) {
    throw new SyntaxError('Cannot open entry receipt: it carries no entry (no "extra" line)')
  }
  const origin = parseVerifierKey(options.logVerifierKey).name
  const witnessKeys = options.witnessVerifierKeys ?? []
  const witnesses = witnessKeys.map(verifierFromKey)
  const checkpoint = verifyTlogProof(text, {
    leafHash: leafHash(parsed.extra),
    origin,
    logVerifiers: [verifierFromKey(options.logVerifierKey)],
    witnessVerifiers: witnesses,
  })
  return {
    entry: parsed.extra,
    index: parsed.index,
    checkpoint,
    cosignedAt: newestCosignature(parsed.checkpoint, witnessKeys),
  }
}

/**
 * The newest timestamp among the checkpoint's cosignatures by the given witness keys. Only
 * called after `verifyTlogProof` verified every known signature, so the times are authentic.
 */
function newestCosignature(note: string, witnessKeys: readonly string[]): Date | undefined {
  const known = new Set(
    witnessKeys
      .map(parseVerifierKey)
      .filter((k) => k.type === SignatureType.cosignatureV1)
      .map((k) => `${k.name}+${k.keyId}`),
  )
  let newest: bigint | undefined
  for (const sig of parseNote(note).signatures) {
    if (!known.has(`${sig.name}+${sig.keyId}`)) continue
    const { timestamp } = parseCosignature(sig.signature)
    if (newest === undefined || timestamp > newest) newest = timestamp
  }
  return newest === undefined ? undefined : new Date(Number(newest) * 1000)
}
