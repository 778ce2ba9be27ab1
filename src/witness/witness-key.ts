import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createFileOnce, readIfExists } from '../core/index.js'
import {
  cosignatureSigner,
  type NoteSigner,
  parseVerifierKey,
  SignatureType,
} from '../ledger/index.js'

/** The witness's cosigning key, file `<state>/witness.key` (mode 0600). */
export interface WitnessKey {
  /** The key name cosignature lines carry. */
  readonly name: string
  /** The cosignature (type 0x04) verifier key clients pass to `ledger verify --witness`. */
  readonly verifierKey: string
  /** Signs with the current time. */
  readonly signer: NoteSigner
}

/** File name of the key inside the state folder. */
export const WITNESS_KEY_FILE = 'witness.key'

/**
 * Key file format: Go's signer-key layout with the cosignature type byte,
 * `PRIVATE+KEY+<name>+<key id>+base64(0x04 || 32-byte Ed25519 seed)`, the key id computed for
 * type 0x04, so the file names its key exactly as its verifier key does.
 */
function formatKey(name: string, seed: Uint8Array): string {
  const { vkey } = cosignatureSigner({ name, seed })
  const { keyId } = parseVerifierKey(vkey)
  const blob = Buffer.concat([Buffer.of(SignatureType.cosignatureV1), seed]).toString('base64')
  return `PRIVATE+KEY+${name}+${keyId}+${blob}`
}

function parseKey(text: string, path: string, now?: () => number): WitnessKey {
  const parts = text.trim().split('+')
  const fail = (why: string): never => {
    throw new Error(`Cannot read witness key "${path}": ${why}`)
  }
  if (parts.length < 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
    fail('it is not PRIVATE+KEY+<name>+<key id>+<key>')
  }
  const name = parts[2] as string
  const keyId = parts[3] as string
  const blob = Buffer.from(parts.slice(4).join('+'), 'base64')
  if (blob.byteLength !== 33 || blob[0] !== SignatureType.cosignatureV1) {
    fail('the key is not base64(0x04 || 32-byte seed)')
  }
  const seed = new Uint8Array(blob.subarray(1))
  const signer = cosignatureSigner({ name, seed, ...(now === undefined ? {} : { now }) })
  if (signer.keyId !== keyId) fail(`key id "${keyId}" does not match the key`)
  return { name, verifierKey: signer.vkey, signer }
}

/**
 * Loads the witness key from `stateDir`, creating it on first start under `name` (ignored when
 * the key exists: a witness's name is fixed with its key). Two processes racing to create it
 * agree on one key.
 */
export async function loadOrCreateWitnessKey(
  stateDir: string,
  options: { name: string; now?: () => number },
): Promise<WitnessKey & { readonly created: boolean }> {
  const path = join(stateDir, WITNESS_KEY_FILE)
  const existing = await readIfExists(path)
  if (existing !== undefined) return { ...parseKey(existing, path, options.now), created: false }
  // Checked before anything is written (signed-note key names: non-empty, no space, no "+").
  if (!/^[^\s+]+$/u.test(options.name)) {
    throw new Error(`Cannot create a witness key named "${options.name}": no spaces or "+"`)
  }
  const text = await createFileOnce(path, `${formatKey(options.name, randomBytes(32))}\n`, {
    dirMode: 0o700,
  })
  return { ...parseKey(text, path, options.now), created: true }
}

/** Reads the witness key of `stateDir`, or undefined when none was created yet. */
export async function readWitnessKey(stateDir: string): Promise<WitnessKey | undefined> {
  const path = join(stateDir, WITNESS_KEY_FILE)
  const text = await readIfExists(path)
  return text === undefined ? undefined : parseKey(text, path)
}
