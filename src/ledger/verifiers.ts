import { cosignatureVerifier } from './cosignature.js'
import {
  ed25519Verifier,
  type NoteVerifier,
  parseVerifierKey,
  SignatureType,
} from './note/signed-note.js'

/** A note verifier for any verifier key string Sovra understands (types 0x01 and 0x04). */
export function verifierFromKey(vkey: string): NoteVerifier {
  const key = parseVerifierKey(vkey)
  return key.type === SignatureType.cosignatureV1 ? cosignatureVerifier(key) : ed25519Verifier(key)
}
