import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BlobStore, openBlobStore } from '../blob/index.js'
import type { Logger } from '../core/index.js'
import { startOutboxDrain } from '../ledger/index.js'
import { type MetaStore, openMetaStore } from '../meta/index.js'
import { type CellKeys, openCellKeys } from './cell-keys.js'
import { type CellLedger, type CellLedgerOptions, openCellLedger } from './cell-ledger.js'
import type { CustomerKeyResolver } from './customer-keys.js'
import { type KeyRotationSettings, KeyRotations } from './key-rotation.js'
import { type LifecycleSettings, LifecycleWorker } from './lifecycle/lifecycle-worker.js'

/** What a cell needs to know of its data center. */
export interface CellDataCenter {
  readonly id: string
  readonly city: string
  readonly jurisdiction: string
  /** Absolute folder of its files; absent or null: `<dataDir>/dcs/<id>`. */
  readonly storagePath?: string | null
}

/** Everything that lives inside one data center: its metadata store and its blob folder. */
export interface Cell {
  readonly dc: CellDataCenter
  readonly meta: MetaStore
  readonly blob: BlobStore
  /** The cell's transparency log: every access and change in this data center. */
  readonly ledger: CellLedger
  /** The cell's key providers: every object's data key is wrapped by one (see object-crypto.ts). */
  readonly keys: CellKeys
  /** Bucket key rotations: a new key version, then a background re-wrap of the data keys. */
  readonly rotations: KeyRotations
  /** The worker that applies the buckets' lifecycle rules in the background. */
  readonly lifecycle: LifecycleWorker
  close(): Promise<void>
}

/** Re-wrap settings when the caller gives none (the configuration's defaults). */
const DEFAULT_KEY_ROTATION: KeyRotationSettings = { batchSize: 64, concurrency: 4, pauseMs: 0 }

/** Lifecycle settings when the caller gives none (the configuration's defaults). */
const DEFAULT_LIFECYCLE: LifecycleSettings = {
  enabled: true,
  intervalMs: 3_600_000,
  dayMs: 86_400_000,
  batchSize: 500,
}

/** The default folder of a cell's files: `<dataDir>/dcs/<id>/`. Cells never open each other's folders. */
export function cellDir(dataDir: string, dcId: string): string {
  return join(dataDir, 'dcs', dcId)
}

/** Where a data center keeps its files: its storage path, else the default folder. */
export function cellFolderOf(dataDir: string, dc: CellDataCenter): string {
  return dc.storagePath ?? cellDir(dataDir, dc.id)
}

/** The file that names the data center a folder belongs to. */
const OWNER_FILE = 'DATA_CENTER'

/**
 * Claims a cell folder for `dcId`: writes its id into `DATA_CENTER` on first use, and refuses a
 * folder another data center claimed (a configuration that points two data centers at one
 * folder must fail, not mix their files).
 */
async function claimFolder(dir: string, dcId: string): Promise<void> {
  const path = join(dir, OWNER_FILE)
  const owner = await readFile(path, 'utf8').then(
    (text) => text.trim(),
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw err
    },
  )
  if (owner === null) {
    await writeFile(path, `${dcId}\n`, { mode: 0o600, flag: 'wx' })
    return
  }
  if (owner !== dcId) {
    throw new Error(
      `Cannot open data center "${dcId}": its folder "${dir}" belongs to data center "${owner}"`,
    )
  }
}

/**
 * Opens one data center's stores and sweeps what an interrupted write left behind (temporary
 * files, blobs no metadata row references).
 */
export async function createCell(
  dc: CellDataCenter,
  deps: {
    readonly dataDir: string
    readonly logger: Logger
    readonly ledger: CellLedgerOptions
    /** Registered customer KMS keys (the composition root's registry); none when absent. */
    readonly customerKeys?: CustomerKeyResolver
    /** The tenant's ledger secret, for the commitments of key rotation events. */
    readonly ledgerSecretOf?: (tenantId: string) => Promise<Buffer>
    readonly keyRotation?: KeyRotationSettings
    readonly lifecycle?: LifecycleSettings
    /** False: lifecycle expiries write no ledger events (`ledger.enabled: false`). */
    readonly ledgerEnabled?: boolean
  },
): Promise<Cell> {
  const dir = cellFolderOf(deps.dataDir, dc)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await claimFolder(dir, dc.id)
  const meta = await openMetaStore({ driver: 'sqlite', path: join(dir, 'meta.sqlite') })
  const blob = await openBlobStore({ driver: 'fs', root: join(dir, 'blobs') })
  const swept = await blob.sweep((ref) => meta.isBlobReferenced(ref))
  if (swept.temp + swept.orphans > 0) {
    deps.logger.info(
      { dc: dc.id, temp: swept.temp, orphans: swept.orphans },
      'Swept leftovers of interrupted writes',
    )
  }
  const keys = await openCellKeys(dc.id, dir, {
    logger: deps.logger.child({ dc: dc.id }),
    ...(deps.customerKeys === undefined ? {} : { customerKeys: deps.customerKeys }),
    // DeleteBucket drops the row before it destroys the key: a racing write finds no bucket.
    bucketExists: async (bucket) => (await meta.getBucket(bucket)) !== null,
  })
  const logger = deps.logger.child({ dc: dc.id })
  const ledger = await openCellLedger(dir, { ...deps.ledger, logger })
  // Changes commit their events into the metadata store's outbox; this moves them to the log.
  const drain = await startOutboxDrain(
    { read: (limit) => meta.readLedgerOutbox(limit), ack: (seq) => meta.ackLedgerOutbox(seq) },
    ledger.log,
    ledger.storage,
    { logger, intervalMs: 1000 },
  )
  meta.onLedgerOutbox(() => drain.wake())
  const rotations = new KeyRotations({
    dc: dc.id,
    dir,
    meta,
    keys,
    ledger,
    ...(deps.ledgerSecretOf === undefined ? {} : { ledgerSecretOf: deps.ledgerSecretOf }),
    settings: deps.keyRotation ?? DEFAULT_KEY_ROTATION,
    logger: logger.child({ component: 'key-rotation' }),
  })
  // Rotations a previous process left running go on from their saved progress.
  await rotations.resume()
  const lifecycle = new LifecycleWorker({
    dc: dc.id,
    meta,
    blob,
    ledger,
    ...(deps.ledgerSecretOf === undefined || deps.ledgerEnabled === false
      ? {}
      : { ledgerSecretOf: deps.ledgerSecretOf }),
    settings: deps.lifecycle ?? DEFAULT_LIFECYCLE,
    logger: logger.child({ component: 'lifecycle' }),
  })
  lifecycle.start()
  return {
    dc,
    meta,
    blob,
    ledger,
    keys,
    rotations,
    lifecycle,
    async close() {
      // First: the jobs use the metadata store, the keys and the log.
      await lifecycle.close()
      await rotations.close()
      await drain.stop()
      // Witnessing stops first among the log's users: its requests read proofs from the log.
      await ledger.witnessing?.close()
      await meta.close()
      await ledger.log.close()
      ledger.index.close()
      await blob.close()
    },
  }
}
