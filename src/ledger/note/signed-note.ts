import { createHash } from 'node:crypto'
import { concatBytes, fromBase64Strict, toBase64, toHex, utf8Bytes } from '../encoding.js'
import { LedgerErrors } from '../ledger-error.js'
import { ed25519FromSeed, ed25519PublicKey, ed25519Sign, ed25519Verify } from './ed25519.js'

/**
 * c2sp.org/signed-note: UTF-8 text ending in `\n`, a blank line, then signature lines
 * `— <key name> <base64(4-byte key id || signature)>\n`. Opening follows golang.org/x/mod's
 * `note.Open` exactly (the vectors in signed-note.json are its tests).
 */

/** Signature type bytes of c2sp.org/signed-note that Sovra handles. */
export const SignatureType = {
  /** Ed25519 over the note text (log signatures). */
  ed25519: 0x01,
  /** Ed25519 cosignature/v1 over a timestamped checkpoint (witnesses). */
  cosignatureV1: 0x04,
} as const
/** One of `SignatureType`'s values. */
export type SignatureTypeByte = (typeof SignatureType)[keyof typeof SignatureType]

/** More signature lines than this make a note malformed (Go's cap; c2sp requires ≥ 16). */
export const MAX_SIGNATURES = 100

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string
  /** 8 lowercase hex digits. */
  readonly keyId: string
  /** The signature bytes after the 4-byte key id. */
  readonly signature: Uint8Array
}

/** A note split into its text and signature lines (nothing verified). */
export interface Note {
  /** The signed text, ending in `\n`. */
  readonly text: string
  readonly signatures: readonly NoteSignature[]
}

/** Checks one signature of a known key over a note's text. */
export interface NoteVerifier {
  readonly name: string
  readonly keyId: string
  verify(text: Uint8Array, signature: Uint8Array): boolean
}

/** Signs a note's text; the result goes after the key id on a signature line. */
export interface NoteSigner {
  readonly name: string
  readonly keyId: string
  sign(text: Uint8Array): Uint8Array
}

/** A parsed verifier key string `name+keyid+base64(type || public key)`. */
export interface VerifierKey {
  readonly name: string
  readonly keyId: string
  readonly type: number
  readonly publicKey: Uint8Array
}

/** True when `name` is a valid key name: non-empty, no Unicode space, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085]/u.test(name) && !name.includes('+')
}

/** Key id = `SHA-256(name || 0x0A || type || public key)[:4]`, as 8 lowercase hex digits. */
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): string {
  const digest = createHash('sha256')
    .update(utf8Bytes(name))
    .update(Uint8Array.of(0x0a, type))
    .update(publicKey)
    .digest()
  return toHex(digest.subarray(0, 4))
}

/**
 * Parses `name+keyid+base64(type || key)`, splitting on the first two `+` only (base64 contains
 * `+`). The key id must match the key. Types 0x01 and 0x04 need a 32-byte Ed25519 key; other
 * types are rejected.
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const first = vkey.indexOf('+')
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1)
  if (second < 0) throw LedgerErrors.invalidKey(`"${vkey}" is not name+keyid+key`)
  const name = vkey.slice(0, first)
  const keyId = vkey.slice(first + 1, second)
  const blob = fromBase64Strict(vkey.slice(second + 1))
  if (!isValidKeyName(name)) throw LedgerErrors.invalidKey(`key name "${name}" is not valid`)
  if (!/^[0-9a-f]{8}$/.test(keyId))
    throw LedgerErrors.invalidKey(`key id "${keyId}" is not 8 hex digits`)
  if (blob === undefined || blob.byteLength < 2) {
    throw LedgerErrors.invalidKey(`the key of "${name}" is not base64`)
  }
  const type = blob[0] as number
  const publicKey = blob.subarray(1)
  if (type !== SignatureType.ed25519 && type !== SignatureType.cosignatureV1) {
    throw LedgerErrors.invalidKey(
      `signature type 0x${type.toString(16)} of "${name}" is not supported`,
    )
  }
  if (publicKey.byteLength !== 32) {
    throw LedgerErrors.invalidKey(
      `the Ed25519 key of "${name}" is ${publicKey.byteLength} bytes, not 32`,
    )
  }
  if (keyIdOf(name, type, publicKey) !== keyId) {
    throw LedgerErrors.invalidKey(`key id "${keyId}" does not match the key of "${name}"`)
  }
  return { name, keyId, type, publicKey }
}

/** Formats a verifier key string. */
export function formatVerifierKey(key: Omit<VerifierKey, 'keyId'>): string {
  const id = keyIdOf(key.name, key.type, key.publicKey)
  return `${key.name}+${id}+${toBase64(concatBytes([Uint8Array.of(key.type), key.publicKey]))}`
}

/** A parsed signer key `PRIVATE+KEY+name+keyid+base64(0x01 || seed)`. */
export interface SignerKey {
  readonly name: string
  readonly keyId: string
  readonly seed: Uint8Array
  /** The matching verifier key string. */
  readonly vkey: string
}

/** Parses Go's signer key format; the key id must match the derived public key. */
export function parseSignerKey(skey: string): SignerKey {
  const parts = skey.split('+')
  if (parts.length < 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
    throw LedgerErrors.invalidKey('a signer key is PRIVATE+KEY+name+keyid+key')
  }
  const name = parts[2] as string
  const keyId = parts[3] as string
  const blob = fromBase64Strict(parts.slice(4).join('+'))
  if (!isValidKeyName(name)) throw LedgerErrors.invalidKey(`key name "${name}" is not valid`)
  if (blob === undefined || blob.byteLength !== 33 || blob[0] !== SignatureType.ed25519) {
    throw LedgerErrors.invalidKey(`the key of "${name}" is not base64(0x01 || 32-byte seed)`)
  }
  const seed = blob.subarray(1)
  const { publicKeyBytes } = ed25519FromSeed(seed)
  if (keyIdOf(name, SignatureType.ed25519, publicKeyBytes) !== keyId) {
    throw LedgerErrors.invalidKey(`key id "${keyId}" does not match the key of "${name}"`)
  }
  return {
    name,
    keyId,
    seed,
    vkey: formatVerifierKey({ name, type: SignatureType.ed25519, publicKey: publicKeyBytes }),
  }
}

/** Formats a signer key string for an Ed25519 seed. */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  const { publicKeyBytes } = ed25519FromSeed(seed)
  const id = keyIdOf(name, SignatureType.ed25519, publicKeyBytes)
  return `PRIVATE+KEY+${name}+${id}+${toBase64(concatBytes([Uint8Array.of(0x01), seed]))}`
}

/** An Ed25519 (type 0x01) note signer from a seed or a signer key string. */
export function ed25519Signer(key: string | { name: string; seed: Uint8Array }): NoteSigner {
  const { name, seed } = typeof key === 'string' ? parseSignerKey(key) : key
  if (!isValidKeyName(name)) throw LedgerErrors.invalidKey(`key name "${name}" is not valid`)
  const pair = ed25519FromSeed(seed)
  return {
    name,
    keyId: keyIdOf(name, SignatureType.ed25519, pair.publicKeyBytes),
    sign: (text) => ed25519Sign(pair.privateKey, text),
  }
}

/** An Ed25519 (type 0x01) note verifier from a verifier key string. */
export function ed25519Verifier(vkey: string | VerifierKey): NoteVerifier {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey
  if (key.type !== SignatureType.ed25519) {
    throw LedgerErrors.invalidKey(`"${key.name}" is not an Ed25519 note key (type 0x01)`)
  }
  const publicKey = ed25519PublicKey(key.publicKey)
  return {
    name: key.name,
    keyId: key.keyId,
    verify: (text, signature) => ed25519Verify(publicKey, text, signature),
  }
}

/**
 * Splits a note into text and signatures without verifying anything (Go's checks: valid UTF-8,
 * no control characters but `\n`, the last blank line separates text from signature lines,
 * every line well formed and newline-terminated, at most MAX_SIGNATURES lines).
 */
export function parseNote(message: string | Uint8Array): Note {
  const msg = typeof message === 'string' ? message : decodeUtf8(message)
  for (let i = 0; i < msg.length; i++) {
    const c = msg.charCodeAt(i)
    if (c < 0x20 && c !== 0x0a) throw LedgerErrors.malformedNote('it contains a control character')
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = msg.charCodeAt(i + 1)
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw LedgerErrors.malformedNote('it is not valid UTF-8')
      }
      i++
    }
  }
  const split = msg.lastIndexOf('\n\n')
  if (split < 0) throw LedgerErrors.malformedNote('it has no blank line before the signatures')
  const text = msg.slice(0, split + 1)
  let rest = msg.slice(split + 2)
  if (rest.length === 0 || !rest.endsWith('\n')) {
    throw LedgerErrors.malformedNote('the signature block is empty or does not end in a newline')
  }
  const signatures: NoteSignature[] = []
  while (rest.length > 0) {
    const nl = rest.indexOf('\n')
    const line = rest.slice(0, nl)
    rest = rest.slice(nl + 1)
    if (!line.startsWith('— '))
      throw LedgerErrors.malformedNote('a signature line does not start with "— "')
    const body = line.slice(2)
    const space = body.indexOf(' ')
    const name = space < 0 ? body : body.slice(0, space)
    const b64 = space < 0 ? '' : body.slice(space + 1)
    const blob = fromBase64Strict(b64)
    if (!isValidKeyName(name) || b64 === '' || blob === undefined || blob.byteLength < 5) {
      throw LedgerErrors.malformedNote(`the signature line of "${name}" is not well formed`)
    }
    if (signatures.length >= MAX_SIGNATURES) {
      throw LedgerErrors.malformedNote(`it has more than ${MAX_SIGNATURES} signatures`)
    }
    signatures.push({ name, keyId: toHex(blob.subarray(0, 4)), signature: blob.subarray(4) })
  }
  return { text, signatures }
}

/** Formats a note: text, blank line, one line per signature. */
export function formatNote(note: Note): string {
  checkText(note.text)
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`
}

/** One signature line, newline included. */
export function formatSignatureLine(sig: NoteSignature): string {
  const blob = concatBytes([Buffer.from(sig.keyId, 'hex'), sig.signature])
  return `— ${sig.name} ${toBase64(blob)}\n`
}

/** Signs `text` with each signer, in order, and formats the note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text)
  const bytes = utf8Bytes(text)
  return formatNote({
    text,
    signatures: signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) })),
  })
}

/** Adds signatures to an already signed note (existing lines are kept, in order). */
export function addSignatures(message: string, signers: readonly NoteSigner[]): string {
  const note = parseNote(message)
  const bytes = utf8Bytes(note.text)
  return formatNote({
    text: note.text,
    signatures: [
      ...note.signatures,
      ...signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) })),
    ],
  })
}

/** A note whose text is authenticated by at least one known key. */
export interface OpenedNote {
  readonly text: string
  /** Signatures of known keys, all verified, one per (name, key id). */
  readonly verified: readonly NoteSignature[]
  /** Signatures of unknown keys (not checked), repeated identical lines dropped. */
  readonly unverified: readonly NoteSignature[]
}

/**
 * Parses and verifies a note against known verifiers, as c2sp.org/signed-note requires:
 * unknown (name, key id) signatures are ignored, a known one must verify (else
 * `InvalidSignature` rejects the whole note), repeats of a known key are skipped, and at least
 * one known signature must verify (else `UnverifiedNote`). A (name, key id) configured twice is
 * `AmbiguousKey` when a signature needs it.
 */
export function openNote(
  message: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const note = parseNote(message)
  const known = new Map<string, NoteVerifier[]>()
  for (const v of verifiers) {
    const k = `${v.name}+${v.keyId}`
    known.set(k, [...(known.get(k) ?? []), v])
  }
  const textBytes = utf8Bytes(note.text)
  const verified: NoteSignature[] = []
  const unverified: NoteSignature[] = []
  const seen = new Set<string>()
  const seenUnverified = new Set<string>()
  for (const sig of note.signatures) {
    const k = `${sig.name}+${sig.keyId}`
    const candidates = known.get(k)
    if (candidates === undefined) {
      const line = formatSignatureLine(sig)
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line)
        unverified.push(sig)
      }
      continue
    }
    if (candidates.length > 1) throw LedgerErrors.ambiguousKey(sig.name, sig.keyId)
    if (seen.has(k)) continue
    seen.add(k)
    if (!(candidates[0] as NoteVerifier).verify(textBytes, sig.signature)) {
      throw LedgerErrors.invalidSignature(sig.name, sig.keyId)
    }
    verified.push(sig)
  }
  if (verified.length === 0) throw LedgerErrors.unverifiedNote('no signature is by a known key')
  return { text: note.text, verified, unverified }
}

function checkText(text: string): void {
  if (!text.endsWith('\n'))
    throw new SyntaxError('Cannot sign note: the text does not end in a newline')
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 && c !== 0x0a) {
      throw new SyntaxError('Cannot sign note: the text contains a control character')
    }
  }
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return fatalUtf8.decode(bytes)
  } catch {
    throw LedgerErrors.malformedNote('it is not valid UTF-8')
  }
}
