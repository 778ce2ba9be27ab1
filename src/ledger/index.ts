/**
 * The ledger: one append-only RFC 6962 transparency log per cell, with C2SP checkpoints, tiles,
 * cosignatures and witnessing. See README.md for the formats and the event types.
 */

export type { Checkpoint, OpenedCheckpoint } from './checkpoint.js'
export { formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.js'
export type { CosignatureParts } from './cosignature.js'
export {
  cosignatureMessage,
  cosignatureSigner,
  cosignatureVerifier,
  MAX_COSIGNATURE_TIME,
  parseCosignature,
} from './cosignature.js'
export type { EntryReceiptParts, OpenedEntryReceipt } from './entry-receipt.js'
export { formatEntryReceipt, openEntryReceipt } from './entry-receipt.js'
export type {
  BucketAttestedEvent,
  BucketCreateEvent,
  BucketDeleteEvent,
  Commitment,
  DcCatalogChangeEvent,
  KeyChangeEvent,
  LedgerActor,
  LedgerEvent,
  MultipartCompleteEvent,
  ObjectCopyEvent,
  ObjectDeleteEvent,
  ObjectGetEvent,
  ObjectHeadEvent,
  ObjectIntegrityFailureEvent,
  ObjectListEvent,
  ObjectPutEvent,
  TenantChangeEvent,
  TransferFinishEvent,
  TransferInstructionEvent,
  TransferObjectEvent,
} from './events.js'
export {
  commit,
  decodeEvent,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  LEDGER_EVENT_TYPES,
} from './events.js'
export type { IntegrateResult, TileFetcher, TileRequest } from './integrate.js'
export { integrate, tileNodeFetcher } from './integrate.js'
export type { LedgerErrorCode } from './ledger-error.js'
export { isLedgerError, LEDGER_ERROR_CODES, LedgerError, LedgerErrors } from './ledger-error.js'
export type { ConsistencyCheck, InclusionCheck, NodeFetcher, NodeId } from './merkle/proofs.js'
export {
  consistencyProof,
  consistencyProofNodes,
  inclusionProof,
  inclusionProofNodes,
  memoryNodeFetcher,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle/proofs.js'
export {
  emptyRoot,
  HASH_SIZE,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  rootOfEntries,
} from './merkle/rfc6962.js'
export type {
  Note,
  NoteSignature,
  NoteSigner,
  NoteVerifier,
  OpenedNote,
  SignatureTypeByte,
  SignerKey,
  VerifierKey,
} from './note/signed-note.js'
export {
  addSignatures,
  ed25519Signer,
  ed25519Verifier,
  formatNote,
  formatSignerKey,
  formatVerifierKey,
  keyIdOf,
  MAX_SIGNATURES,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  SignatureType,
  signNote,
} from './note/signed-note.js'
export {
  type Outbox,
  type OutboxDrain,
  type OutboxEntry,
  startOutboxDrain,
} from './outbox-drain.js'
export type {
  Attestation,
  AttestationCheck,
  AttestationSignature,
  AttestationStatement,
} from './residency-attestation.js'
export {
  ATTESTATION_DOMAIN,
  ATTESTATION_TYPE,
  attestationHash,
  attestationMessage,
  LIST_DIGEST_DOMAIN,
  ListDigest,
  parseAttestation,
  signAttestation,
  verifyAttestation,
} from './residency-attestation.js'
export { FsLedgerStorage } from './storage/fs/fs-ledger-storage.js'
export type {
  IntegrationCommit,
  IoOptions,
  LedgerStorage,
  TreeState,
} from './storage/ledger-storage.js'
export type { BundleReader, ParsedTilePath } from './tiles.js'
export {
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  encodeTileIndex,
  entriesPath,
  entriesPathForLogIndex,
  entryBundleUpdates,
  MAX_ENTRY_SIZE,
  parseTileLevelIndex,
  parseTilePath,
  readBundleEntries,
  TILE_WIDTH,
  tilePath,
  tilesForTreeSize,
  tileWidth,
} from './tiles.js'
export type { TlogProof } from './tlog-proof.js'
export { formatTlogProof, parseTlogProof, verifyTlogProof } from './tlog-proof.js'
export type { OpenLogOptions, PublishedCheckpoint, TransparencyLog } from './transparency-log.js'
export { isPushback, openLog } from './transparency-log.js'
export { verifierFromKey } from './verifiers.js'
export type {
  AcceptedCheckpoint,
  AddCheckpointRequest,
  WitnessedLog,
  WitnessResponse,
  WitnessState,
  WitnessStateStore,
} from './witness.js'
export {
  checkAddCheckpoint,
  formatAddCheckpointRequest,
  JsonFileWitnessStateStore,
  MemoryWitnessStateStore,
  parseAddCheckpointRequest,
  Witness,
} from './witness.js'
export type {
  WitnessEndpoint,
  WitnessEndpointStatus,
  Witnessing,
  WitnessingOptions,
  WitnessingStatus,
  WitnessPost,
} from './witnessing.js'
export { startWitnessing } from './witnessing.js'
export type { Worker, WorkerStatus } from './worker.js'
