import { createHash } from 'node:crypto'
import { canonicalize } from '../../core/index.js'
import { ResidencyError, ResidencyErrors } from './residency-error.js'

/** The `type` every transfer instruction carries: it keeps the signature from meaning anything else. */
export const INSTRUCTION_TYPE = 'sovra.transfer-instruction'

/** The only instruction format version this code reads. */
export const INSTRUCTION_VERSION = 1

/** Operations an instruction may authorise. */
export const TRANSFER_OPERATIONS = ['copy', 'move', 'migrate'] as const

/** `copy` leaves the source, `move` deletes it once the destination is durable, `migrate` moves a whole bucket's home. */
export type TransferOperation = (typeof TRANSFER_OPERATIONS)[number]

/** Size limits of an instruction; each refusal names the limit it hit. */
export const INSTRUCTION_LIMITS = {
  /** Longest object key or prefix, in UTF-8 bytes (S3's own limit). */
  maxKeyBytes: 1024,
  /** Most keys a `keys` scope may list (S3 DeleteObjects' batch size). */
  maxKeys: 1000,
  /** Longest `purpose`, in UTF-8 bytes. */
  maxPurposeBytes: 1024,
  /** Longest `legalBasis.reference`, in UTF-8 bytes. */
  maxReferenceBytes: 512,
  /** Shortest and longest nonce, in decoded bytes. */
  minNonceBytes: 16,
  maxNonceBytes: 64,
  /** Longest validity window: bounds how long a nonce must be remembered. */
  maxValidityMs: 31 * 24 * 60 * 60 * 1000,
  /** Largest signed-instruction JSON text accepted by `parseSignedInstruction`. */
  maxDocumentBytes: 2 * 1024 * 1024,
} as const

/** One end of a transfer: a bucket in a data center. */
export interface TransferEndpoint {
  readonly dc: string
  readonly bucket: string
}

/** What an instruction covers inside the source bucket. */
export type TransferScope =
  | { readonly kind: 'bucket' }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'keys'; readonly keys: readonly string[] }

/** A legal basis the customer states for an export, checked against the export rules. */
export interface LegalBasis {
  /** A basis kind from the export rules, for example `CN-PIPL-standard-contract`. */
  readonly kind: string
  /** The customer's reference for it: a contract number, a filing id, a certificate. */
  readonly reference: string
}

/**
 * A customer's transfer instruction (format version 1), exactly the object that is signed.
 * `docs/transfer-instructions.md` specifies it for customers' own tools.
 */
export interface TransferInstruction {
  readonly type: typeof INSTRUCTION_TYPE
  readonly version: typeof INSTRUCTION_VERSION
  readonly tenantId: string
  readonly source: TransferEndpoint
  readonly destination: TransferEndpoint
  readonly scope: TransferScope
  readonly operation: TransferOperation
  /** RFC 3339 UTC (`Z`) time before which the instruction is not valid. */
  readonly notBefore: string
  /** RFC 3339 UTC (`Z`) time after which the instruction is not valid. */
  readonly notAfter: string
  /** At least 16 random bytes, base64url without padding; single use. */
  readonly nonce: string
  readonly purpose?: string
  readonly legalBasis?: LegalBasis
}

/** An instruction with its detached signature, as a customer submits it. */
export interface SignedInstruction {
  readonly instruction: TransferInstruction
  /** Standard base64 (with padding) of the 64-byte Ed25519 signature over `canonicalBytes(instruction)`. */
  readonly signature: string
  /** `publicKeyId` of the signing key. */
  readonly keyId: string
}

const DC_ID = /^[a-z]{2}(-[a-z0-9]+)+$/
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const BASIS_KIND = /^[A-Z]{2}(-[A-Za-z0-9]+)+$/
const KEY_ID = /^ed25519:[A-Za-z0-9_-]{22}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * The bytes that are signed: the UTF-8 encoding of the RFC 8785 canonical JSON of the instruction.
 * Absent optional fields are absent, never `null`.
 */
export function canonicalBytes(instruction: TransferInstruction): Buffer {
  return Buffer.from(canonicalize(instruction), 'utf8')
}

/** SHA-256 of the canonical bytes, lowercase hex: the instruction's stable id. */
export function instructionDigest(instruction: TransferInstruction): string {
  return createHash('sha256').update(canonicalBytes(instruction)).digest('hex')
}

/** Milliseconds since the epoch of an RFC 3339 UTC time, or `null` if it is not one. */
export function parseUtcTime(text: string): number | null {
  const m = RFC3339_UTC.exec(text)
  if (m === null) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3))
  const at = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  const d = new Date(at)
  // Date.UTC rolls 2025-02-30 over to March: a round trip catches impossible dates and 24:00.
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  ) {
    return null
  }
  return at
}

/**
 * Parses an instruction strictly: every field checked, unknown fields rejected, sizes bounded,
 * cross-field rules enforced. Throws `InstructionMalformed` naming the field and the reason.
 */
export function parseInstruction(value: unknown): TransferInstruction {
  const o = record(value, 'instruction')
  only(o, '$', [
    'type',
    'version',
    'tenantId',
    'source',
    'destination',
    'scope',
    'operation',
    'notBefore',
    'notAfter',
    'nonce',
    'purpose',
    'legalBasis',
  ])
  if (o.type !== INSTRUCTION_TYPE) {
    throw malformed('type', `must be "${INSTRUCTION_TYPE}"`, o.type)
  }
  if (o.version !== INSTRUCTION_VERSION) {
    throw malformed('version', `must be the integer ${INSTRUCTION_VERSION}`, o.version)
  }
  const tenantId = pattern(
    o.tenantId,
    'tenantId',
    TENANT_ID,
    'a tenant id such as "t-0123456789abcdef"',
  )
  const source = endpoint(o.source, 'source')
  const destination = endpoint(o.destination, 'destination')
  const scope = parseScope(o.scope)
  const operation = oneOf(o.operation, 'operation', TRANSFER_OPERATIONS)
  const notBefore = time(o.notBefore, 'notBefore')
  const notAfter = time(o.notAfter, 'notAfter')
  const nonce = parseNonce(o.nonce)
  const purpose =
    o.purpose === undefined
      ? undefined
      : text(o.purpose, 'purpose', INSTRUCTION_LIMITS.maxPurposeBytes)
  const legalBasis = o.legalBasis === undefined ? undefined : parseLegalBasis(o.legalBasis)

  if (source.dc === destination.dc) {
    throw malformed('destination.dc', `must differ from the source data center "${source.dc}"`)
  }
  if (operation === 'migrate') {
    if (scope.kind !== 'bucket') {
      throw malformed('scope.kind', 'must be "bucket" when the operation is "migrate"', scope.kind)
    }
    if (destination.bucket !== source.bucket) {
      throw malformed(
        'destination.bucket',
        `must be the source bucket "${source.bucket}" when the operation is "migrate"`,
        destination.bucket,
      )
    }
  } else if (destination.bucket === source.bucket) {
    throw malformed(
      'destination.bucket',
      `must differ from the source bucket when the operation is "${operation}": bucket names are global`,
      destination.bucket,
    )
  }
  const from = notBefore.at
  const until = notAfter.at
  if (until <= from)
    throw malformed('notAfter', `must be later than notBefore "${notBefore.text}"`, notAfter.text)
  if (until - from > INSTRUCTION_LIMITS.maxValidityMs) {
    throw malformed('notAfter', 'must be at most 31 days after notBefore', notAfter.text)
  }

  return {
    type: INSTRUCTION_TYPE,
    version: INSTRUCTION_VERSION,
    tenantId,
    source,
    destination,
    scope,
    operation,
    notBefore: notBefore.text,
    notAfter: notAfter.text,
    nonce,
    ...(purpose === undefined ? {} : { purpose }),
    ...(legalBasis === undefined ? {} : { legalBasis }),
  }
}

/**
 * Parses a signed instruction (`{ instruction, signature, keyId }`) strictly: a JSON text of at
 * most 2 MiB or an already parsed value. Throws `InstructionMalformed`.
 */
export function parseSignedInstruction(input: unknown): SignedInstruction {
  let value = input
  if (typeof input === 'string') {
    if (Buffer.byteLength(input, 'utf8') > INSTRUCTION_LIMITS.maxDocumentBytes) {
      throw malformed('$', `must be at most ${INSTRUCTION_LIMITS.maxDocumentBytes} bytes of JSON`)
    }
    try {
      value = JSON.parse(input) as unknown
    } catch (cause) {
      throw new ResidencyError(
        'InstructionMalformed',
        `Invalid transfer instruction field "$": not JSON: ${(cause as Error).message}`,
        { cause, details: { field: '$' } },
      )
    }
  }
  const o = record(value, '$')
  only(o, '$', ['instruction', 'signature', 'keyId'])
  const keyId = pattern(o.keyId, 'keyId', KEY_ID, '"ed25519:" and 22 base64url characters')
  const signature = parseSignature(o.signature)
  const instruction = parseInstruction(o.instruction)
  return { instruction, signature, keyId }
}

function parseSignature(value: unknown): string {
  if (typeof value !== 'string') throw malformed('signature', 'must be a string', value)
  if (!BASE64.test(value) || Buffer.from(value, 'base64').toString('base64') !== value) {
    throw malformed('signature', 'must be standard base64 with padding')
  }
  if (Buffer.from(value, 'base64').length !== 64) {
    throw malformed('signature', 'must encode exactly 64 bytes (an Ed25519 signature)')
  }
  return value
}

function parseScope(value: unknown): TransferScope {
  const o = record(value, 'scope')
  const kind = oneOf(o.kind, 'scope.kind', ['bucket', 'prefix', 'keys'] as const)
  switch (kind) {
    case 'bucket':
      only(o, 'scope', ['kind'])
      return { kind }
    case 'prefix': {
      only(o, 'scope', ['kind', 'prefix'])
      return { kind, prefix: objectKey(o.prefix, 'scope.prefix') }
    }
    case 'keys': {
      only(o, 'scope', ['kind', 'keys'])
      if (!Array.isArray(o.keys))
        throw malformed('scope.keys', 'must be an array of object keys', o.keys)
      if (o.keys.length === 0) throw malformed('scope.keys', 'must list at least one key')
      if (o.keys.length > INSTRUCTION_LIMITS.maxKeys) {
        throw malformed(
          'scope.keys',
          `must list at most ${INSTRUCTION_LIMITS.maxKeys} keys, not ${o.keys.length}`,
        )
      }
      const seen = new Set<string>()
      const keys = o.keys.map((item: unknown, i: number) => {
        const key = objectKey(item, `scope.keys[${i}]`)
        if (seen.has(key)) throw malformed(`scope.keys[${i}]`, 'repeats an earlier key', key)
        seen.add(key)
        return key
      })
      return { kind, keys }
    }
  }
}

function parseLegalBasis(value: unknown): LegalBasis {
  const o = record(value, 'legalBasis')
  only(o, 'legalBasis', ['kind', 'reference'])
  const kind = pattern(
    o.kind,
    'legalBasis.kind',
    BASIS_KIND,
    'a basis kind such as "CN-PIPL-standard-contract"',
  )
  const reference = text(o.reference, 'legalBasis.reference', INSTRUCTION_LIMITS.maxReferenceBytes)
  return { kind, reference }
}

function parseNonce(value: unknown): string {
  if (typeof value !== 'string') throw malformed('nonce', 'must be a string', value)
  if (!BASE64URL.test(value) || Buffer.from(value, 'base64url').toString('base64url') !== value) {
    throw malformed('nonce', 'must be base64url without padding')
  }
  const bytes = Buffer.from(value, 'base64url').length
  const { minNonceBytes, maxNonceBytes } = INSTRUCTION_LIMITS
  if (bytes < minNonceBytes || bytes > maxNonceBytes) {
    throw malformed(
      'nonce',
      `must encode ${minNonceBytes} to ${maxNonceBytes} random bytes, not ${bytes}`,
    )
  }
  return value
}

function endpoint(value: unknown, field: string): TransferEndpoint {
  const o = record(value, field)
  only(o, field, ['dc', 'bucket'])
  return {
    dc: pattern(o.dc, `${field}.dc`, DC_ID, 'a data center id such as "us-west-1"'),
    bucket: pattern(
      o.bucket,
      `${field}.bucket`,
      BUCKET,
      'an S3 bucket name (3 to 63 of a-z 0-9 . -)',
    ),
  }
}

function time(value: unknown, field: string): { text: string; at: number } {
  if (typeof value !== 'string') throw malformed(field, 'must be a string', value)
  const at = parseUtcTime(value)
  if (at === null)
    throw malformed(field, 'must be an RFC 3339 UTC time such as "2025-01-31T12:00:00Z"', value)
  return { text: value, at }
}

function objectKey(value: unknown, field: string): string {
  return text(value, field, INSTRUCTION_LIMITS.maxKeyBytes)
}

function text(value: unknown, field: string, maxBytes: number): string {
  if (typeof value !== 'string') throw malformed(field, 'must be a string', value)
  if (value.length === 0) throw malformed(field, 'must not be empty')
  if (LONE_SURROGATE.test(value))
    throw malformed(field, 'must be valid Unicode: it has a lone surrogate')
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > maxBytes)
    throw malformed(field, `must be at most ${maxBytes} UTF-8 bytes, not ${bytes}`)
  return value
}

function pattern(value: unknown, field: string, re: RegExp, what: string): string {
  if (typeof value !== 'string') throw malformed(field, 'must be a string', value)
  if (!re.test(value)) throw malformed(field, `must be ${what}`, value)
  return value
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  throw malformed(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value)
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) throw malformed(field, 'is missing')
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(field, 'must be a JSON object', value)
  }
  return value as Record<string, unknown>
}

function only(o: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      throw malformed(field === '$' ? key : `${field}.${key}`, 'is not a known field')
    }
  }
}

/**
 * `InstructionMalformed` for `field`. With a third argument the message shows what was found,
 * and a missing (`undefined`) value reads "is missing".
 */
function malformed(field: string, reason: string, ...got: [unknown?]): ResidencyError {
  if (got.length === 0) return ResidencyErrors.instructionMalformed(field, reason)
  const [value] = got
  if (value === undefined) return ResidencyErrors.instructionMalformed(field, 'is missing')
  return ResidencyErrors.instructionMalformed(field, `${reason}, not ${show(value)}`)
}

function show(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64 ? `"${value.slice(0, 64)}…"` : `"${value}"`
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : String(value)
}
