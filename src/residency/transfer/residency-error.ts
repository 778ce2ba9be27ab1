import { SovraError } from '../../core/index.js'

/**
 * Every code a residency error can carry; a retired code is never reused. The transfer gate's
 * refusals are the `Instruction*`, `DataCenter*` and `Export*` codes: each names exactly one
 * reason, so a customer or auditor reading a refusal knows which check failed.
 */
export const RESIDENCY_ERROR_CODES = [
  'InstructionMalformed',
  'InstructionSignatureInvalid',
  'InstructionKeyUnknown',
  'InstructionKeyRevoked',
  'InstructionNotYetValid',
  'InstructionExpired',
  'InstructionReplayed',
  'InstructionScopeMismatch',
  'InstructionBucketMismatch',
  'NoSuchDataCenter',
  'DataCenterNotActive',
  'ExportBasisRequired',
  'ExportBasisNotAccepted',
  'ExportDestinationRestricted',
  'ExportRuleMissing',
  'ExportRulesInvalid',
  'TransferNotCovered',
  'TransferVerificationFailed',
  'DataCenterUnavailable',
  'SigningKeyInvalid',
  'SigningKeyIsPrivate',
] as const

/** A residency error code. */
export type ResidencyErrorCode = (typeof RESIDENCY_ERROR_CODES)[number]

/** An error raised by residency: placement, the transfer gate and export rules. */
export class ResidencyError extends SovraError<ResidencyErrorCode> {
  constructor(
    code: ResidencyErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('residency', code, message, options)
  }
}

/** Factory table for residency errors; messages follow STYLE.md habit 13. */
export const ResidencyErrors = {
  instructionMalformed: (field: string, reason: string) =>
    new ResidencyError(
      'InstructionMalformed',
      `Invalid transfer instruction field "${field}": ${reason}`,
      { details: { field } },
    ),
  signatureInvalid: (keyId: string) =>
    new ResidencyError(
      'InstructionSignatureInvalid',
      `Cannot verify transfer instruction signed by "${keyId}": the signature does not match the instruction`,
      { details: { keyId } },
    ),
  keyUnknown: (keyId: string, tenantId: string, reason: string) =>
    new ResidencyError(
      'InstructionKeyUnknown',
      `Cannot verify transfer instruction of tenant "${tenantId}": key "${keyId}" ${reason}`,
      { details: { keyId, tenantId } },
    ),
  keyRevoked: (keyId: string, tenantId: string) =>
    new ResidencyError(
      'InstructionKeyRevoked',
      `Cannot verify transfer instruction of tenant "${tenantId}": key "${keyId}" is revoked`,
      { details: { keyId, tenantId } },
    ),
  notYetValid: (notBefore: string, now: string) =>
    new ResidencyError(
      'InstructionNotYetValid',
      `Cannot accept transfer instruction before "${notBefore}": it is now "${now}"`,
      { details: { notBefore, now } },
    ),
  expired: (notAfter: string, now: string) =>
    new ResidencyError(
      'InstructionExpired',
      `Cannot accept transfer instruction after "${notAfter}": it is now "${now}"`,
      { details: { notAfter, now } },
    ),
  replayed: (nonce: string) =>
    new ResidencyError(
      'InstructionReplayed',
      `Cannot accept transfer instruction with nonce "${nonce}": it was already used`,
      { details: { nonce } },
    ),
  scopeMismatch: (field: string, reason: string) =>
    new ResidencyError(
      'InstructionScopeMismatch',
      `Cannot execute transfer as requested: the request's "${field}" ${reason}`,
      { details: { field } },
    ),
  bucketMismatch: (bucket: string, reason: string) =>
    new ResidencyError(
      'InstructionBucketMismatch',
      `Cannot transfer bucket "${bucket}": ${reason}`,
      { details: { bucket } },
    ),
  noSuchDataCenter: (dcId: string) =>
    new ResidencyError(
      'NoSuchDataCenter',
      `Cannot find data center "${dcId}": it is not in the catalog`,
      { details: { dcId } },
    ),
  dataCenterNotActive: (dcId: string, role: string, status: string) =>
    new ResidencyError(
      'DataCenterNotActive',
      `Cannot use data center "${dcId}" as the transfer ${role}: it is "${status}"`,
      { details: { dcId, status } },
    ),
  exportBasisRequired: (from: string, to: string, accepted: readonly string[]) =>
    new ResidencyError(
      'ExportBasisRequired',
      `Cannot export from "${from}" to "${to}": the instruction states no legal basis and the rule requires one of ${quoteList(accepted)}`,
      { details: { from, to } },
    ),
  exportBasisNotAccepted: (from: string, kind: string, accepted: readonly string[]) =>
    new ResidencyError(
      'ExportBasisNotAccepted',
      `Cannot export from "${from}" on legal basis "${kind}": the rule accepts only ${quoteList(accepted)}`,
      { details: { from, kind } },
    ),
  exportDestinationRestricted: (from: string, to: string) =>
    new ResidencyError(
      'ExportDestinationRestricted',
      `Cannot export from "${from}" to "${to}": the rule restricts that destination`,
      { details: { from, to } },
    ),
  exportRuleMissing: (from: string) =>
    new ResidencyError(
      'ExportRuleMissing',
      `Cannot export from "${from}": no export rule exists for that jurisdiction`,
      { details: { from } },
    ),
  exportRulesInvalid: (file: string, reason: string, cause?: unknown) =>
    new ResidencyError('ExportRulesInvalid', `Invalid export rule "${file}": ${reason}`, {
      cause,
      details: { file },
    }),
  transferNotCovered: (transferId: string, reason: string) =>
    new ResidencyError(
      'TransferNotCovered',
      `Cannot use transfer instruction "${transferId}" for this request: ${reason}`,
      { details: { transferId } },
    ),
  transferVerificationFailed: (where: string, reason: string) =>
    new ResidencyError(
      'TransferVerificationFailed',
      `Cannot verify the copy of "${where}": ${reason}`,
      { details: { where } },
    ),
  dataCenterUnavailable: (dcId: string) =>
    new ResidencyError(
      'DataCenterUnavailable',
      `Cannot reach data center "${dcId}" from this process: its cell is not open here`,
      { details: { dcId } },
    ),
  signingKeyInvalid: (reason: string) =>
    new ResidencyError('SigningKeyInvalid', `Cannot register the signing key: ${reason}`),
  signingKeyIsPrivate: () =>
    new ResidencyError(
      'SigningKeyIsPrivate',
      'Cannot register the signing key: it is a private key; send only the public key (SPKI PEM or the raw 32 bytes in base64), and keep the private key on your machine',
    ),
} as const

function quoteList(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.map((item) => `"${item}"`).join(', ')
}
