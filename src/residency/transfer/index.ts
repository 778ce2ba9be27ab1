export type { CoveredCopy, CoveredSource, TransferGateDeps } from './gate.js'
export { inScope, TransferGate } from './gate.js'
export type {
  LegalBasis,
  SignedInstruction,
  TransferEndpoint,
  TransferInstruction,
  TransferOperation,
  TransferScope,
} from './instruction.js'
export {
  canonicalBytes,
  INSTRUCTION_LIMITS,
  INSTRUCTION_TYPE,
  INSTRUCTION_VERSION,
  instructionDigest,
  parseInstruction,
  parseSignedInstruction,
  parseUtcTime,
  TRANSFER_OPERATIONS,
} from './instruction.js'
export type { ResidencyErrorCode } from './residency-error.js'
export { RESIDENCY_ERROR_CODES, ResidencyError, ResidencyErrors } from './residency-error.js'
export { newNonce, signInstruction } from './sign-instruction.js'
export type { GeneratedKeyPair } from './signing-keys.js'
export {
  importPrivateKey,
  importPublicKey,
  isPrivateKeyText,
  keygen,
  publicKeyId,
} from './signing-keys.js'
export type { TransferService } from './transfer-service.js'
export { createTransferService } from './transfer-service.js'
export type {
  BucketFacts,
  DataCenterFacts,
  RegisteredKey,
  TransferRequest,
  VerifiedInstruction,
  VerifyInstructionOptions,
  VerifyResult,
} from './verify-instruction.js'
export { DEFAULT_CLOCK_SKEW_MS, verifyInstruction } from './verify-instruction.js'
