import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, type Logger, readIfExists } from '../core/index.js'
import {
  type Attestation,
  type AttestationStatement,
  ed25519Signer,
  FsLedgerStorage,
  formatSignerKey,
  formatVerifierKey,
  type LedgerStorage,
  openLog,
  parseSignerKey,
  SignatureType,
  signAttestation,
  startWitnessing,
  type TransparencyLog,
  type WitnessEndpoint,
  type Witnessing,
} from '../ledger/index.js'
import { type LedgerEventIndex, openLedgerIndex } from './ledger-index.js'

/** How a cell's transparency log is set up. */
export interface CellLedgerOptions {
  /** Checkpoint origin, also the log key's name: `<prefix>/<dc>`. */
  readonly origin: string
  readonly batchMaxDelayMs: number
  readonly maxPending: number
  /** Witnesses each new checkpoint is submitted to (none: checkpoints are served as signed). */
  readonly witnesses?: readonly WitnessEndpoint[]
  /** Cosignatures a checkpoint needs before it is served (1..witnesses.length with witnesses). */
  readonly witnessQuorum?: number
}

/** A cell's open log, its storage (served read-only on the admin port) and its verifier key. */
export interface CellLedger {
  readonly log: TransparencyLog
  readonly storage: LedgerStorage
  /** Events by tenant commitment, derived from the log (`<dir>/ledger-index.sqlite`). */
  readonly index: LedgerEventIndex
  /** Changes get `SlowDown` once this many events wait for the log. */
  readonly maxPending: number
  /** The signed-note verifier key (`name+keyid+base64`) anyone checks checkpoints with. */
  readonly verifierKey: string
  /** Witnessing of the log's checkpoints, when witnesses are configured. */
  readonly witnessing: Witnessing | undefined
  /**
   * The checkpoint to publish: with witnesses, the newest one a quorum cosigned (its
   * cosignature lines appended; undefined until there is one); without, the latest signed one.
   */
  servedCheckpoint(): Promise<string | undefined>
  /**
   * Signs a residency attestation with the log key. The key signs nothing else but checkpoints:
   * the attestation's message is domain-separated (`sovra-residency-attestation/v1\n`), so it
   * can never pass for one.
   */
  signAttestation(statement: AttestationStatement): Attestation
}

/** Where the newest cosigned checkpoint is kept across restarts, inside the cell's folder. */
const COSIGNED_CHECKPOINT = 'ledger-cosigned-checkpoint'

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

function publicKeyOf(seed: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return spki.subarray(spki.length - 32)
}

/**
 * Loads the data center's log key (`keys/ledger.key`, created on first start) or makes one whose
 * name is the origin. A key whose name differs from the configured origin is refused: a
 * checkpoint's origin and its key name must agree.
 */
async function loadLogKey(
  dir: string,
  origin: string,
): Promise<{ signerKey: string; verifierKey: string }> {
  const path = join(dir, 'keys', 'ledger.key')
  let signerKey: string
  try {
    signerKey = (await readFile(path, 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    signerKey = formatSignerKey(origin, randomBytes(32))
    await atomicWrite(path, `${signerKey}\n`, { dirMode: 0o700 })
  }
  const parsed = parseSignerKey(signerKey)
  if (parsed.name !== origin) {
    throw new Error(
      `Cannot open the ledger of "${origin}": its key in "${path}" is named "${parsed.name}"`,
    )
  }
  const verifierKey = formatVerifierKey({
    name: origin,
    type: SignatureType.ed25519,
    publicKey: publicKeyOf(parsed.seed),
  })
  // The verifier key beside it is for operators and `sovra dc list --keys`; written once.
  const pub = join(dir, 'keys', 'ledger.pub')
  if ((await readIfExists(pub)) !== `${verifierKey}\n`) await atomicWrite(pub, `${verifierKey}\n`)
  return { signerKey, verifierKey }
}

/** Opens a cell's transparency log in `<dcDir>/ledger/`, signing with the cell's own key. */
export async function openCellLedger(
  dir: string,
  options: CellLedgerOptions & { readonly logger: Logger },
): Promise<CellLedger> {
  const { signerKey, verifierKey } = await loadLogKey(dir, options.origin)
  const storage = await FsLedgerStorage.open(join(dir, 'ledger'))
  let witnessing: Witnessing | undefined
  const signer = ed25519Signer(signerKey)
  const log = await openLog({
    storage,
    signer,
    origin: options.origin,
    logger: options.logger,
    batchMaxSize: 1024,
    batchMaxDelayMs: options.batchMaxDelayMs,
    maxPending: options.maxPending,
    onPublish: (cp) => witnessing?.offer(cp),
  })
  const witnesses = options.witnesses ?? []
  const quorum = options.witnessQuorum ?? 0
  if (witnesses.length > 0 && quorum > 0) {
    const kept = join(dir, COSIGNED_CHECKPOINT)
    try {
      const initial = await readIfExists(kept)
      witnessing = startWitnessing({
        origin: options.origin,
        witnesses,
        quorum,
        consistencyProof: (size1, size2) => log.consistencyProof(size1, size2),
        onCosigned: (note) => atomicWrite(kept, note),
        logger: options.logger,
        ...(initial === undefined ? {} : { initial }),
      })
    } catch (err) {
      await log.close()
      throw err
    }
    witnessing.offer(log.checkpoint())
  }
  const index = openLedgerIndex(join(dir, 'ledger-index.sqlite'), { log, storage }, options.logger)
  return {
    log,
    storage,
    verifierKey,
    index,
    maxPending: options.maxPending,
    witnessing,
    servedCheckpoint: async () =>
      witnessing === undefined ? storage.readCheckpoint() : witnessing.cosigned(),
    signAttestation: (statement) => signAttestation(statement, signer),
  }
}
