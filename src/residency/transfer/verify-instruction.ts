import { type KeyObject, verify } from 'node:crypto'
import type { DataCenterState } from '../../directory/index.js'
import { checkExport, type ExportRequirement, type ExportRules } from '../export-rules/index.js'
import {
  canonicalBytes,
  instructionDigest,
  parseSignedInstruction,
  parseUtcTime,
  type TransferEndpoint,
  type TransferInstruction,
  type TransferOperation,
  type TransferScope,
} from './instruction.js'
import { ResidencyError, ResidencyErrors } from './residency-error.js'
import { importRegisteredKey } from './signing-keys.js'

/**
 * How far the signer's clock may be off: `notBefore` and `notAfter` are each widened by this much.
 * Five minutes, as Kerberos and most JWT libraries allow; the window itself is what the customer
 * signed, so a larger skew would quietly extend their instruction.
 */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000

/** A signing key as the directory registered it for a tenant. */
export interface RegisteredKey {
  /** SPKI PEM, raw base64 or a KeyObject. */
  readonly publicKey: KeyObject | string
  readonly tenantId: string
  readonly revoked: boolean
}

/** What the gate needs to know about a data center. */
export interface DataCenterFacts {
  readonly status: DataCenterState
  /** ISO 3166-1 alpha-2. */
  readonly jurisdiction: string
}

/** Where a bucket lives and who owns it, as the directory says now. */
export interface BucketFacts {
  readonly dc: string
  readonly tenantId: string
}

/** What an operator (or the S3 face) asks the gate to execute; must equal what was signed. */
export interface TransferRequest {
  readonly tenantId: string
  readonly source: TransferEndpoint
  readonly destination: TransferEndpoint
  readonly scope: TransferScope
  readonly operation: TransferOperation
}

/** Everything verification reads, injected so that it stays pure and synchronous. */
export interface VerifyInstructionOptions {
  /** The registered key with this id, or `null`. */
  readonly keys: (keyId: string) => RegisteredKey | null
  readonly now: Date
  /** True when this nonce was already accepted (by any instruction, ever). */
  readonly nonceSeen: (nonce: string) => boolean
  /** The data center with this id, or `null`. */
  readonly dataCenters: (id: string) => DataCenterFacts | null
  /** The bucket with this name, or `null`. */
  readonly buckets: (name: string) => BucketFacts | null
  readonly exportRules: ExportRules
  readonly request: TransferRequest
  /** Defaults to `DEFAULT_CLOCK_SKEW_MS`. */
  readonly clockSkewMs?: number
}

/** A verified instruction, with what the gate records about it. */
export interface VerifiedInstruction {
  readonly ok: true
  readonly instruction: TransferInstruction
  readonly keyId: string
  /** `instructionDigest(instruction)`: SHA-256 hex of the signed bytes. */
  readonly digest: string
  readonly exportRequirement: ExportRequirement
}

/** The outcome of `verifyInstruction`: accepted, or refused with one precise error. */
export type VerifyResult =
  | VerifiedInstruction
  | { readonly ok: false; readonly error: ResidencyError }

/**
 * Decides whether a signed transfer instruction authorises `options.request`. Pure: it reads only
 * its arguments and the injected lookups, changes nothing, and returns the first failed check:
 *
 * 1. the document parses strictly (`InstructionMalformed`);
 * 2. `keyId` is registered (`InstructionKeyUnknown`), to the instruction's tenant, and not
 *    revoked (`InstructionKeyRevoked`);
 * 3. the Ed25519 signature over the canonical bytes verifies (`InstructionSignatureInvalid`);
 * 4. `now` is inside the window, widened by the clock skew (`InstructionNotYetValid`,
 *    `InstructionExpired`);
 * 5. the nonce was never used (`InstructionReplayed`);
 * 6. both data centers exist (`NoSuchDataCenter`); the destination is `active` and the source is
 *    `active` or `draining` (`DataCenterNotActive`);
 * 7. both buckets belong to the tenant and live in the named data centers
 *    (`InstructionBucketMismatch`);
 * 8. the request equals what was signed (`InstructionScopeMismatch`);
 * 9. the export rule of the source jurisdiction is satisfied (`ExportBasisRequired`,
 *    `ExportBasisNotAccepted`, `ExportDestinationRestricted`, `ExportRuleMissing`).
 *
 * It does not consume the nonce: the caller records it atomically with accepting the instruction.
 * A registered key that is not an Ed25519 public key is a broken registry, not a refusal: that
 * throws a `TypeError`.
 */
export function verifyInstruction(
  signed: unknown,
  options: VerifyInstructionOptions,
): VerifyResult {
  try {
    return { ok: true, ...check(signed, options) }
  } catch (err) {
    if (err instanceof ResidencyError) return { ok: false, error: err }
    throw err
  }
}

function check(
  signed: unknown,
  options: VerifyInstructionOptions,
): Omit<VerifiedInstruction, 'ok'> {
  const { instruction, signature, keyId } = parseSignedInstruction(signed)
  const { tenantId } = instruction

  // 2. The key: registered, to this tenant, not revoked.
  const registered = options.keys(keyId)
  if (registered === null) throw ResidencyErrors.keyUnknown(keyId, tenantId, 'is not registered')
  if (registered.tenantId !== tenantId) {
    throw ResidencyErrors.keyUnknown(keyId, tenantId, 'is not registered to this tenant')
  }
  const { key: publicKey, keyId: registeredId } = importRegisteredKey(registered.publicKey)
  if (registeredId !== keyId) {
    throw ResidencyErrors.keyUnknown(keyId, tenantId, 'does not match the registered public key')
  }
  if (registered.revoked) throw ResidencyErrors.keyRevoked(keyId, tenantId)

  // 3. The signature, over exactly the canonical bytes. crypto.verify compares in constant time.
  let valid = false
  try {
    valid = verify(null, canonicalBytes(instruction), publicKey, Buffer.from(signature, 'base64'))
  } catch {
    valid = false
  }
  if (!valid) throw ResidencyErrors.signatureInvalid(keyId)

  // 4. The validity window, widened by the allowed clock skew on both sides.
  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS
  const now = options.now.getTime()
  const nowText = options.now.toISOString()
  if (now < (parseUtcTime(instruction.notBefore) ?? Number.NaN) - skew) {
    throw ResidencyErrors.notYetValid(instruction.notBefore, nowText)
  }
  if (now > (parseUtcTime(instruction.notAfter) ?? Number.NaN) + skew) {
    throw ResidencyErrors.expired(instruction.notAfter, nowText)
  }

  // 5. Single use.
  if (options.nonceSeen(instruction.nonce)) throw ResidencyErrors.replayed(instruction.nonce)

  // 6. Both data centers.
  const from = dataCenter(options, instruction.source.dc, 'source')
  const to = dataCenter(options, instruction.destination.dc, 'destination')

  // 7. Both buckets: the tenant's, where the instruction says they are.
  bucket(options, instruction.source, tenantId)
  if (instruction.operation !== 'migrate') bucket(options, instruction.destination, tenantId)

  // 8. The request is exactly what was signed.
  matchRequest(instruction, options.request)

  // 9. The export rule of the source's jurisdiction.
  const exportRequirement = options.exportRules.exportRequirement(
    from.jurisdiction,
    to.jurisdiction,
  )
  const refusal = checkExport(exportRequirement, instruction.legalBasis)
  if (refusal !== null) throw refusal

  return { instruction, keyId, digest: instructionDigest(instruction), exportRequirement }
}

function dataCenter(
  options: VerifyInstructionOptions,
  id: string,
  role: 'source' | 'destination',
): DataCenterFacts {
  const dc = options.dataCenters(id)
  if (dc === null) throw ResidencyErrors.noSuchDataCenter(id)
  // A draining data center still serves its buckets, and moving them out is how it drains.
  const allowed = role === 'source' ? ['active', 'draining'] : ['active']
  if (!allowed.includes(dc.status)) throw ResidencyErrors.dataCenterNotActive(id, role, dc.status)
  return dc
}

function bucket(options: VerifyInstructionOptions, end: TransferEndpoint, tenantId: string): void {
  const found = options.buckets(end.bucket)
  if (found === null) throw ResidencyErrors.bucketMismatch(end.bucket, 'it does not exist')
  if (found.tenantId !== tenantId) {
    throw ResidencyErrors.bucketMismatch(end.bucket, `it is not owned by tenant "${tenantId}"`)
  }
  if (found.dc !== end.dc) {
    throw ResidencyErrors.bucketMismatch(
      end.bucket,
      `it lives in "${found.dc}", not in "${end.dc}" as the instruction says`,
    )
  }
}

function matchRequest(signed: TransferInstruction, request: TransferRequest): void {
  const same = (field: string, want: string, got: string) => {
    if (want !== got) {
      throw ResidencyErrors.scopeMismatch(field, `is "${got}" but the instruction signed "${want}"`)
    }
  }
  same('tenantId', signed.tenantId, request.tenantId)
  same('operation', signed.operation, request.operation)
  same('source.dc', signed.source.dc, request.source.dc)
  same('source.bucket', signed.source.bucket, request.source.bucket)
  same('destination.dc', signed.destination.dc, request.destination.dc)
  same('destination.bucket', signed.destination.bucket, request.destination.bucket)
  same('scope.kind', signed.scope.kind, request.scope.kind)
  if (signed.scope.kind === 'prefix' && request.scope.kind === 'prefix') {
    same('scope.prefix', signed.scope.prefix, request.scope.prefix)
  }
  if (signed.scope.kind === 'keys' && request.scope.kind === 'keys') {
    const allowed = new Set(signed.scope.keys)
    const asked = new Set(request.scope.keys)
    for (const key of asked) {
      if (!allowed.has(key)) {
        throw ResidencyErrors.scopeMismatch(
          'scope.keys',
          `names "${key}", which the instruction does not list`,
        )
      }
    }
    for (const key of allowed) {
      if (!asked.has(key)) {
        throw ResidencyErrors.scopeMismatch(
          'scope.keys',
          `omits "${key}", which the instruction lists`,
        )
      }
    }
  }
}
