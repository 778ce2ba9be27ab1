import { createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto'
import {
  canonicalBytes,
  INSTRUCTION_LIMITS,
  parseInstruction,
  type SignedInstruction,
  type TransferInstruction,
} from './instruction.js'
import { importPrivateKey, publicKeyId } from './signing-keys.js'

/** A fresh nonce: 16 random bytes, base64url without padding. */
export function newNonce(): string {
  return randomBytes(INSTRUCTION_LIMITS.minNonceBytes).toString('base64url')
}

/**
 * Signs an instruction with an Ed25519 private key (KeyObject or PKCS#8 PEM): checks it strictly
 * first (throws `InstructionMalformed`), then signs the UTF-8 bytes of its RFC 8785 canonical JSON.
 * The customer's side: runs offline, the private key never leaves the caller.
 */
export function signInstruction(
  instruction: TransferInstruction,
  privateKey: KeyObject | string,
): SignedInstruction {
  const checked = parseInstruction(instruction)
  const key = importPrivateKey(privateKey)
  const signature = sign(null, canonicalBytes(checked), key).toString('base64')
  return { instruction: checked, signature, keyId: publicKeyId(createPublicKey(key)) }
}
