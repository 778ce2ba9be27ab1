import { concatBytes, utf8Bytes } from './encoding.js'
import { LedgerErrors } from './ledger-error.js'
import { ed25519FromSeed, ed25519PublicKey, ed25519Sign, ed25519Verify } from './note/ed25519.js'
import {
  keyIdOf,
  type NoteSigner,
  type NoteVerifier,
  parseVerifierKey,
  SignatureType,
  type VerifierKey,
} from './note/signed-note.js'

/**
 * c2sp.org/tlog-cosignature, Ed25519 flavour (signature type 0x04): a witness's statement that,
 * as of `time`, this checkpoint is the largest consistent tree head it has seen for the origin.
 * Signature blob = `u64 big-endian timestamp || 64-byte Ed25519 signature` over
 * `"cosignature/v1\ntime <ts>\n" + <checkpoint note text>`.
 */

/** Largest timestamp a cosignature may carry (2^63 - 1). */
export const MAX_COSIGNATURE_TIME = 0x7fff_ffff_ffff_ffffn

/** The message a cosigner signs for checkpoint `text` at `timestamp` (POSIX seconds). */
export function cosignatureMessage(text: string, timestamp: bigint | number): Uint8Array {
  return utf8Bytes(`cosignature/v1\ntime ${BigInt(timestamp).toString()}\n${text}`)
}

/** The parts of a cosignature blob (without the key id). */
export interface CosignatureParts {
  readonly timestamp: bigint
  readonly signature: Uint8Array
}

/** Splits a 72-byte cosignature (after the key id); throws SyntaxError on any other length. */
export function parseCosignature(sig: Uint8Array): CosignatureParts {
  if (sig.byteLength !== 72) {
    throw new SyntaxError(`Cannot parse cosignature: it is ${sig.byteLength} bytes, not 8 + 64`)
  }
  const timestamp = Buffer.from(sig.buffer, sig.byteOffset, 8).readBigUInt64BE(0)
  if (timestamp > MAX_COSIGNATURE_TIME) {
    throw new SyntaxError('Cannot parse cosignature: the timestamp exceeds 2^63-1')
  }
  return { timestamp, signature: sig.subarray(8) }
}

/** A cosignature (type 0x04) verifier from a verifier key string. */
export function cosignatureVerifier(vkey: string | VerifierKey): NoteVerifier {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey
  if (key.type !== SignatureType.cosignatureV1) {
    throw LedgerErrors.invalidKey(`"${key.name}" is not a cosignature key (type 0x04)`)
  }
  const publicKey = ed25519PublicKey(key.publicKey)
  const decoder = new TextDecoder()
  return {
    name: key.name,
    keyId: key.keyId,
    verify(text, sig) {
      let parts: CosignatureParts
      try {
        parts = parseCosignature(sig)
      } catch {
        return false
      }
      const message = cosignatureMessage(decoder.decode(text), parts.timestamp)
      return ed25519Verify(publicKey, message, parts.signature)
    },
  }
}

/** A cosigner: signs checkpoint texts with the current time (`now` returns POSIX seconds). */
export function cosignatureSigner(options: {
  name: string
  seed: Uint8Array
  now?: () => number
}): NoteSigner & { readonly vkey: string } {
  const pair = ed25519FromSeed(options.seed)
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const keyId = keyIdOf(options.name, SignatureType.cosignatureV1, pair.publicKeyBytes)
  const decoder = new TextDecoder()
  const vkeyBlob = concatBytes([Uint8Array.of(SignatureType.cosignatureV1), pair.publicKeyBytes])
  return {
    name: options.name,
    keyId,
    vkey: `${options.name}+${keyId}+${Buffer.from(vkeyBlob).toString('base64')}`,
    sign(text) {
      const timestamp = BigInt(now())
      const header = Buffer.alloc(8)
      header.writeBigUInt64BE(timestamp)
      const signature = ed25519Sign(
        pair.privateKey,
        cosignatureMessage(decoder.decode(text), timestamp),
      )
      return concatBytes([header, signature])
    },
  }
}
