import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** 32 bytes in base64 or base64url: 43 characters, the last carrying 4 bits, then optional `=`. */
const RAW_KEY_BASE64 = /^[A-Za-z0-9+/_-]{42}[AEIMQUYcgkosw048]=?$/

/** A freshly generated signing key pair for a customer's offline tooling. */
export interface GeneratedKeyPair {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); stays on the customer's machine. */
  readonly privateKeyPem: string
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`); registered with the tenant. */
  readonly publicKeyPem: string
  /** The raw 32-byte public key, standard base64. */
  readonly publicKeyRaw: string
  /** `publicKeyId` of the public key. */
  readonly keyId: string
}

/** Generates an Ed25519 key pair for signing transfer instructions. */
export function keygen(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyRaw: rawPublicKey(publicKey).toString('base64'),
    keyId: publicKeyId(publicKey),
  }
}

/**
 * The id of an Ed25519 public key: `ed25519:` followed by the first 16 bytes of
 * SHA-256(raw 32-byte public key), base64url without padding (22 characters). Accepts a KeyObject,
 * an SPKI PEM, or the raw key in base64 or base64url.
 */
export function publicKeyId(publicKey: KeyObject | string): string {
  const digest = createHash('sha256')
    .update(rawPublicKey(importPublicKey(publicKey)))
    .digest()
  return `ed25519:${digest.subarray(0, 16).toString('base64url')}`
}

/**
 * An Ed25519 public key from a KeyObject, an SPKI PEM, or the raw 32 bytes in base64/base64url.
 * Throws a `TypeError` for anything else (a private key, another algorithm, a wrong length).
 */
export function importPublicKey(publicKey: KeyObject | string): KeyObject {
  let key: KeyObject
  if (typeof publicKey !== 'string') {
    if (publicKey.type !== 'public') {
      throw new TypeError(`Cannot use the key as a public key: it is a ${publicKey.type} key`)
    }
    key = publicKey
  } else if (publicKey.includes('-----BEGIN')) {
    if (!publicKey.includes('-----BEGIN PUBLIC KEY-----')) {
      throw new TypeError('Cannot read the public key: the PEM is not "PUBLIC KEY" (SPKI)')
    }
    key = createPublicKey({ key: publicKey, format: 'pem' })
  } else {
    const text = publicKey.trim()
    if (!RAW_KEY_BASE64.test(text)) {
      throw new TypeError(
        'Cannot read the public key: expected an SPKI PEM or 32 raw bytes in base64 or base64url',
      )
    }
    // Node's base64 decoder reads both alphabets, so one call covers base64 and base64url.
    const raw = Buffer.from(text, 'base64')
    key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
      format: 'der',
      type: 'spki',
    })
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(
      `Cannot use the public key: it is "${key.asymmetricKeyType}", not "ed25519"`,
    )
  }
  return key
}

/**
 * Whether `text` holds a private key of any kind: a PEM block whose label says `PRIVATE KEY`
 * (PKCS#8, encrypted PKCS#8, OpenSSH, SEC1, PKCS#1), or base64/base64url of a PKCS#8 DER key.
 * Registration refuses these before parsing anything, so a private key sent by mistake is never
 * stored, echoed in an error or logged. (A raw 32-byte Ed25519 seed cannot be told apart from a
 * raw public key; it is read as one, which reveals nothing of the seed.)
 */
export function isPrivateKeyText(text: string): boolean {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return true
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/_-]{60,}={0,2}$/.test(compact)) return false
  try {
    createPrivateKey({ key: Buffer.from(compact, 'base64'), format: 'der', type: 'pkcs8' })
    return true
  } catch {
    return false
  }
}

/** An Ed25519 private key from a KeyObject or a PKCS#8 PEM; throws a `TypeError` otherwise. */
export function importPrivateKey(privateKey: KeyObject | string): KeyObject {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey
  if (key.type !== 'private') throw new TypeError('Cannot sign: the key is not a private key')
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`Cannot sign: the key is "${key.asymmetricKeyType}", not "ed25519"`)
  }
  return key
}

/** The raw 32 bytes of an Ed25519 public key. */
function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' })
  return der.subarray(der.length - 32)
}

/** Registered public keys already imported, by their text (bounded; oldest forgotten first). */
const imported = new Map<string, { readonly key: KeyObject; readonly keyId: string }>()
const IMPORTED_MAX = 1024

/**
 * `importPublicKey` and `publicKeyId` of a registered key's text, remembered: the gate verifies
 * many instructions signed by few keys, and importing a PEM and recomputing its id cost about half
 * of a verification. Deterministic in the text, so the cache can only return what a fresh import
 * would; a `KeyObject` is not cached.
 */
export function importRegisteredKey(publicKey: KeyObject | string): {
  readonly key: KeyObject
  readonly keyId: string
} {
  if (typeof publicKey !== 'string') {
    const key = importPublicKey(publicKey)
    return { key, keyId: publicKeyId(key) }
  }
  const known = imported.get(publicKey)
  if (known !== undefined) return known
  const key = importPublicKey(publicKey)
  const entry = { key, keyId: publicKeyId(key) }
  if (imported.size >= IMPORTED_MAX) imported.delete(imported.keys().next().value as string)
  imported.set(publicKey, entry)
  return entry
}
