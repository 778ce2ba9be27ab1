import { createHash } from 'node:crypto'
import { canonicalize } from '../core/index.js'
import { parseCheckpoint } from './checkpoint.js'
import { fromBase64Strict, toBase64, utf8Bytes } from './encoding.js'
import {
  ed25519Verifier,
  type NoteSigner,
  openNote,
  parseVerifierKey,
  SignatureType,
} from './note/signed-note.js'

/**
 * Residency attestations: a statement a data center signs with its ledger key, saying which
 * bucket it holds, under which jurisdiction, with how many objects and bytes, and a digest of
 * the bucket's (key, size, ETag) list. Format and verification are in docs/residency.md; this
 * module is the one implementation of both, used by the server (signing) and the CLI (checking).
 */

/** The statement's `type`. */
export const ATTESTATION_TYPE = 'sovra.residency-attestation'

/**
 * Prefix of the signed message, so an attestation signature can never be taken for a checkpoint
 * (a note whose first line is the log's origin) or a cosignature (`cosignature/v1\n`).
 */
export const ATTESTATION_DOMAIN = 'sovra-residency-attestation/v1\n'

/** First bytes hashed into a list digest. */
export const LIST_DIGEST_DOMAIN = 'sovra-list-digest/v1\n'

/** What a data center states about one bucket (version 1). */
export interface AttestationStatement {
  readonly v: 1
  readonly type: typeof ATTESTATION_TYPE
  readonly bucket: string
  /** The data center whose ledger key signs. */
  readonly dc: string
  /** ISO 3166-1 alpha-2 code of the data center's jurisdiction. */
  readonly jurisdiction: string
  /** The owning tenant's id. */
  readonly tenant: string
  /** `commit(ledger secret, tenant id)`: how the tenant's events in the ledger name it. */
  readonly tenantCommitment: string
  readonly objectCount: number
  readonly totalBytes: number
  /** Lowercase hex SHA-256 of the (key, size, ETag) list, see `ListDigest`. */
  readonly listDigest: string
  /** RFC 3339 UTC with milliseconds. */
  readonly issuedAt: string
  /** The data center's latest published checkpoint (a signed note), or null before the first. */
  readonly checkpoint: string | null
}

/** The Ed25519 signature of an attestation, by a ledger key (c2sp.org/signed-note names). */
export interface AttestationSignature {
  /** The key's name: the log's origin, `<prefix>/<dc>`. */
  readonly keyName: string
  /** 8 lowercase hex digits, as in the verifier key. */
  readonly keyId: string
  /** base64 of the 64-byte signature over `ATTESTATION_DOMAIN ‖ canonical JSON of statement`. */
  readonly value: string
}

/** A signed attestation, as the admin API answers it and `sovra attest get` saves it. */
export interface Attestation {
  readonly statement: AttestationStatement
  readonly signature: AttestationSignature
}

/** Outcome of a check: ok, or why not (errors as values). */
export type AttestationCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string }

/** The bytes an attestation's signature covers. */
export function attestationMessage(statement: AttestationStatement): Uint8Array {
  return utf8Bytes(`${ATTESTATION_DOMAIN}${canonicalize(statement)}`)
}

/** Signs a statement with a ledger key (type 0x01 Ed25519 signer). */
export function signAttestation(statement: AttestationStatement, signer: NoteSigner): Attestation {
  return {
    statement,
    signature: {
      keyName: signer.name,
      keyId: signer.keyId,
      value: toBase64(signer.sign(attestationMessage(statement))),
    },
  }
}

/**
 * Streams the list digest of a bucket: SHA-256 over `LIST_DIGEST_DOMAIN` then, per object in
 * ascending order of its key's UTF-8 bytes (ListObjectsV2's order), `u32be(key length) ‖ key ‖
 * u64be(size) ‖ u32be(ETag length) ‖ ETag` (key UTF-8, ETag ASCII without quotes). Keeps only
 * the last key, so a bucket of any size is hashed in constant memory.
 */
export class ListDigest {
  readonly #hash = createHash('sha256').update(LIST_DIGEST_DOMAIN)
  #last: Buffer | null = null
  #count = 0
  #bytes = 0

  /** Adds the next object; keys must come in strictly ascending byte order. */
  add(key: string, size: number, etag: string): void {
    const keyBytes = Buffer.from(key, 'utf8')
    if (this.#last !== null && Buffer.compare(this.#last, keyBytes) >= 0) {
      throw new RangeError(
        `Cannot add key "${key}" to a list digest: keys must be in ascending UTF-8 byte order`,
      )
    }
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`Cannot add key "${key}" to a list digest: size "${size}" is invalid`)
    }
    const etagBytes = Buffer.from(etag.replace(/^"|"$/g, ''), 'latin1')
    const head = Buffer.alloc(4)
    head.writeUInt32BE(keyBytes.byteLength)
    const mid = Buffer.alloc(12)
    mid.writeBigUInt64BE(BigInt(size), 0)
    mid.writeUInt32BE(etagBytes.byteLength, 8)
    this.#hash.update(head).update(keyBytes).update(mid).update(etagBytes)
    this.#last = keyBytes
    this.#count += 1
    this.#bytes += size
  }

  /** Objects added so far. */
  get count(): number {
    return this.#count
  }

  /** Sum of their sizes. */
  get bytes(): number {
    return this.#bytes
  }

  /** The digest, lowercase hex; the object cannot be used afterwards. */
  digest(): string {
    return this.#hash.digest('hex')
  }
}

const HEX64 = /^[0-9a-f]{64}$/

/** Reads an attestation from JSON text, checking its shape (not its signature). */
export function parseAttestation(text: string): Attestation {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new SyntaxError(`Cannot read the attestation: it is not JSON (${(err as Error).message})`)
  }
  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot read the attestation: ${what}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('it is not a JSON object')
  }
  const { statement: s, signature: sig } = value as { statement?: unknown; signature?: unknown }
  if (typeof s !== 'object' || s === null) return fail('"statement" is missing')
  if (typeof sig !== 'object' || sig === null) return fail('"signature" is missing')
  const st = s as Record<string, unknown>
  if (st.v !== 1) return fail(`statement version "${String(st.v)}" is not supported (expected 1)`)
  if (st.type !== ATTESTATION_TYPE) return fail(`statement type "${String(st.type)}" is unknown`)
  for (const field of ['bucket', 'dc', 'jurisdiction', 'tenant', 'tenantCommitment', 'issuedAt']) {
    if (typeof st[field] !== 'string') fail(`statement.${field} is not a string`)
  }
  for (const field of ['objectCount', 'totalBytes']) {
    const n = st[field]
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      fail(`statement.${field} is not a non-negative integer`)
    }
  }
  if (typeof st.listDigest !== 'string' || !HEX64.test(st.listDigest)) {
    fail('statement.listDigest is not 64 lowercase hex digits')
  }
  if (st.checkpoint !== null && typeof st.checkpoint !== 'string') {
    fail('statement.checkpoint is neither a signed note nor null')
  }
  const sg = sig as Record<string, unknown>
  for (const field of ['keyName', 'keyId', 'value']) {
    if (typeof sg[field] !== 'string') fail(`signature.${field} is not a string`)
  }
  return value as Attestation
}

/**
 * Checks an attestation with a data center's verifier key (`name+keyid+base64`, as
 * `/admin/v1/ledger/keys` publishes it): the signature by that key over the domain-separated
 * canonical statement, the key name naming the statement's data center, and the embedded
 * checkpoint signed by the same key for the same origin.
 */
export function verifyAttestation(attestation: Attestation, verifierKey: string): AttestationCheck {
  let key: ReturnType<typeof parseVerifierKey>
  try {
    key = parseVerifierKey(verifierKey.trim())
  } catch (err) {
    return { ok: false, reason: `the verifier key is not valid: ${(err as Error).message}` }
  }
  if (key.type !== SignatureType.ed25519) {
    return { ok: false, reason: `the verifier key "${key.name}" is not a log key (type 0x01)` }
  }
  const { statement, signature } = attestation
  if (signature.keyName !== key.name || signature.keyId !== key.keyId) {
    return {
      ok: false,
      reason: `signed by key "${signature.keyName}+${signature.keyId}", not by the given key "${key.name}+${key.keyId}"`,
    }
  }
  const sig = fromBase64Strict(signature.value)
  const verifier = ed25519Verifier(key)
  if (sig === undefined || !verifier.verify(attestationMessage(statement), sig)) {
    return {
      ok: false,
      reason: `signature: the signature of "${key.name}" does not verify over the statement (altered statement or wrong key)`,
    }
  }
  if (!key.name.endsWith(`/${statement.dc}`)) {
    return {
      ok: false,
      reason: `the key "${key.name}" is not the ledger key of data center "${statement.dc}"`,
    }
  }
  if (statement.checkpoint !== null) {
    try {
      const opened = openNote(statement.checkpoint, [verifier])
      const checkpoint = parseCheckpoint(opened.text)
      if (checkpoint.origin !== key.name) {
        return {
          ok: false,
          reason: `checkpoint: its origin "${checkpoint.origin}" is not "${key.name}"`,
        }
      }
    } catch (err) {
      return { ok: false, reason: `checkpoint: ${(err as Error).message}` }
    }
  }
  return { ok: true }
}

/** Lowercase hex SHA-256 of the signed message: what a `bucket.attested` event commits to. */
export function attestationHash(statement: AttestationStatement): string {
  return createHash('sha256').update(attestationMessage(statement)).digest('hex')
}
