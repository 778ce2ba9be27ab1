import { fromBase64Strict, parseUint64, toBase64 } from './encoding.js'
import { LedgerErrors } from './ledger-error.js'
import { HASH_SIZE } from './merkle/rfc6962.js'
import { type NoteVerifier, type OpenedNote, openNote } from './note/signed-note.js'

/**
 * A c2sp.org/tlog-checkpoint body: origin line, decimal tree size, base64 RFC 6962 root, then
 * optional extension lines (opaque; Sovra writes none).
 */
export interface Checkpoint {
  /** The log's identity, e.g. `sovra.example/ledger/us-west-1`. */
  readonly origin: string
  /** Tree size; uint64, so a bigint. */
  readonly size: bigint
  /** RFC 6962 root hash at `size` (32 bytes). */
  readonly root: Uint8Array
  /** Extension lines, without their newlines. */
  readonly extensions: readonly string[]
}

/**
 * Parses a checkpoint body strictly: it ends in `\n`, has at least three lines, a non-empty
 * origin, a size without sign or leading zeros that fits uint64, canonical base64 for a 32-byte
 * root (`anyHashLength` lifts the length rule, for foreign formats only), and non-empty
 * extension lines. Throws SyntaxError.
 */
export function parseCheckpoint(
  text: string,
  options: { anyHashLength?: boolean } = {},
): Checkpoint {
  if (!text.endsWith('\n'))
    throw new SyntaxError('Cannot parse checkpoint: it does not end in a newline')
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3)
    throw new SyntaxError('Cannot parse checkpoint: it has fewer than three lines')
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]]
  if (origin.length === 0)
    throw new SyntaxError('Cannot parse checkpoint: the origin line is empty')
  const size = parseUint64(sizeText)
  if (size === undefined) {
    throw new SyntaxError(
      `Cannot parse checkpoint: size "${sizeText}" is not a uint64 in plain decimal`,
    )
  }
  const root = fromBase64Strict(rootText)
  if (root === undefined)
    throw new SyntaxError('Cannot parse checkpoint: the root hash is not base64')
  if (!options.anyHashLength && root.byteLength !== HASH_SIZE) {
    throw new SyntaxError(
      `Cannot parse checkpoint: the root hash is ${root.byteLength} bytes, not 32`,
    )
  }
  if (extensions.some((line) => line.length === 0)) {
    throw new SyntaxError('Cannot parse checkpoint: an extension line is empty')
  }
  return { origin, size, root, extensions }
}

/** Formats a checkpoint body (the text a log signs). */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes('\n')) {
    throw new SyntaxError('Cannot format checkpoint: the origin is empty or has a newline')
  }
  if (cp.extensions.some((l) => l.length === 0 || l.includes('\n'))) {
    throw new SyntaxError('Cannot format checkpoint: an extension line is empty or has a newline')
  }
  const ext = cp.extensions.map((l) => `${l}\n`).join('')
  return `${cp.origin}\n${cp.size.toString()}\n${toBase64(cp.root)}\n${ext}`
}

/** A signed checkpoint that verified. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint
  readonly note: OpenedNote
}

/**
 * Opens a signed checkpoint note: the note must verify (signed-note rules) with a signature by
 * one of `logVerifiers`, and its origin must equal `origin` exactly. `otherVerifiers`
 * (witnesses) are verified when present but never stand in for the log's signature.
 */
export function openCheckpoint(
  message: string,
  options: {
    origin: string
    logVerifiers: readonly NoteVerifier[]
    otherVerifiers?: readonly NoteVerifier[]
  },
): OpenedCheckpoint {
  const note = openNote(message, [...options.logVerifiers, ...(options.otherVerifiers ?? [])])
  const byLog = note.verified.some((s) =>
    options.logVerifiers.some((v) => v.name === s.name && v.keyId === s.keyId),
  )
  if (!byLog) throw LedgerErrors.unverifiedNote(`no signature is by the log "${options.origin}"`)
  let checkpoint: Checkpoint
  try {
    checkpoint = parseCheckpoint(note.text)
  } catch (cause) {
    throw LedgerErrors.malformedNote(
      `the checkpoint body is not valid: ${(cause as Error).message}`,
    )
  }
  if (checkpoint.origin !== options.origin) {
    throw LedgerErrors.unverifiedNote(
      `origin "${checkpoint.origin}" is not the expected "${options.origin}"`,
    )
  }
  return { checkpoint, note }
}
