import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'

/** DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410) so node:crypto accepts it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** An Ed25519 key pair built from a raw 32-byte seed. */
export interface Ed25519KeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** The raw 32-byte public key. */
  readonly publicKeyBytes: Uint8Array
}

/** Builds the key pair of a raw 32-byte Ed25519 seed. */
export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.byteLength !== 32) {
    throw new RangeError(
      `Cannot build an Ed25519 key: the seed is ${seed.byteLength} bytes, not 32`,
    )
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  const publicKey = createPublicKey(privateKey)
  const spki = publicKey.export({ format: 'der', type: 'spki' })
  return {
    privateKey,
    publicKey,
    publicKeyBytes: new Uint8Array(spki.subarray(SPKI_PREFIX.length)),
  }
}

/** A fresh random 32-byte seed. */
export function randomSeed(): Uint8Array {
  return new Uint8Array(randomBytes(32))
}

/** Builds a public KeyObject from a raw 32-byte Ed25519 public key. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) {
    throw new RangeError(`Cannot build an Ed25519 key: the key is ${raw.byteLength} bytes, not 32`)
  }
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

/** Ed25519 signature of `message`. */
export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey))
}

/** True when `signature` is a valid Ed25519 signature of `message`; never throws. */
export function ed25519Verify(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.byteLength !== 64) return false
  try {
    return verify(null, message, publicKey, signature)
  } catch {
    return false
  }
}
