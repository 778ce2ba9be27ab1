import { existsSync } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import {
  AdminErrors,
  type AttestationAnswer,
  type AttestationRequest,
  type ChangeContext,
  type DataCenterControl,
  type DataCenterView,
  type NewDataCenter,
  type PublicLedger,
  type TransitionRequest,
} from './admin-api/index.js'
import {
  attestBucket,
  type Cell,
  type CustomerKeyResolver,
  cellFolderOf,
  createCell,
} from './cell/index.js'
import type { SovraConfig } from './config/index.js'
import { type Logger, pathsOverlap } from './core/index.js'
import {
  type DataCenterRecord,
  type DataCenterState,
  type Directory,
  DirectoryErrors,
} from './directory/index.js'
import { resolveKmsKeyId } from './keys/index.js'
import type { LedgerActor } from './ledger/index.js'
import type { TransferService } from './residency/index.js'
import { createS3Handler, type S3Metrics } from './s3-api/index.js'

/** One data center as this process serves it. */
export interface RunningDataCenter {
  readonly id: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly endpoint: string
}

/** How an S3 endpoint is started and stopped (main.ts owns the HTTP server details). */
export interface Listener {
  listen(
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    port: number,
  ): Promise<{ server: Server; endpoint: string }>
  close(server: Server): Promise<void>
}

interface Serving {
  readonly record: DataCenterRecord
  readonly cell: Cell
  readonly server: Server
  readonly endpoint: string
}

/**
 * The data centers this process serves, started and stopped while it runs. The directory is the
 * catalog's source of truth: every data center in it that is not retired gets its cell and S3
 * endpoint (a planned one listens but refuses new buckets until activated). Lifecycle changes are
 * written to the directory first, then applied here, one at a time.
 */
export class DataCenterRuntime implements DataCenterControl {
  readonly #config: SovraConfig
  readonly #directory: Directory
  readonly #logger: Logger
  readonly #metrics: S3Metrics
  readonly #listener: Listener
  readonly #transfers: TransferService
  readonly #customerKeys: CustomerKeyResolver | undefined
  readonly #serving = new Map<string, Serving>()
  readonly #status = new Map<string, DataCenterState>()
  readonly #reservedPorts = new Set<number>()
  #queue: Promise<unknown> = Promise.resolve()
  #stopping: Promise<void> | null = null
  /** Each served data center's public log: a live map the admin face reads. */
  readonly ledgers = new Map<string, PublicLedger>()

  constructor(deps: {
    config: SovraConfig
    directory: Directory
    logger: Logger
    metrics: S3Metrics
    listener: Listener
    /** The transfer gate, which S3 copies from another data center go through. */
    transfers: TransferService
    /** Registered customer KMS keys, injected into every cell. */
    customerKeys?: CustomerKeyResolver
  }) {
    this.#config = deps.config
    this.#directory = deps.directory
    this.#logger = deps.logger
    this.#metrics = deps.metrics
    this.#listener = deps.listener
    this.#transfers = deps.transfers
    this.#customerKeys = deps.customerKeys
  }

  /**
   * The first bucket of `tenantId` whose encryption configuration names KMS key `keyId` (by id
   * or ARN), or null. Reads each bucket's configuration from its served cell.
   */
  async bucketNamingKmsKey(tenantId: string, keyId: string): Promise<string | null> {
    for (const placement of await this.#directory.listBuckets(tenantId)) {
      const cell = this.cellOf(placement.dcId)
      const named = (await cell?.meta.getBucket(placement.name))?.encryption?.kmsKeyId ?? null
      if (named === null) continue
      const ref = resolveKmsKeyId(named, tenantId)
      if (ref?.tenantId === tenantId && ref.keyId === keyId) return placement.name
    }
    return null
  }

  /** Ports no data center may take (the admin API's). */
  reservePort(port: number): void {
    if (port !== 0) this.#reservedPorts.add(port)
  }

  /** Starts every data center of the directory that is not retired, in catalog order. */
  async startAll(): Promise<void> {
    for (const record of await this.#directory.listDataCenters()) {
      this.#status.set(record.id, record.status)
      if (record.status !== 'retired') await this.#start(record)
    }
  }

  /**
   * Stops every endpoint, then closes every cell. The list of what ran is kept, so a stopped
   * Sovra still reports the endpoints it had (tests check they are closed).
   */
  stopAll(): Promise<void> {
    this.#stopping ??= this.#serialized(async () => {
      const all = [...this.#serving.values()]
      await Promise.all(all.map((s) => this.#listener.close(s.server)))
      for (const s of all) await s.cell.close().catch(() => undefined)
    })
    return this.#stopping
  }

  /** The S3 endpoint of a served data center, for redirects. */
  endpointOf(id: string): string | null {
    return this.#serving.get(id)?.endpoint ?? null
  }

  /** Ids of every served data center (regions a tenant's signature may name). */
  servedIds(): string[] {
    return [...this.#serving.keys()]
  }

  /** The cell of a served data center (for the transfer gate, the one holder of two cells). */
  cellOf(id: string): Cell | undefined {
    return this.#serving.get(id)?.cell
  }

  /** The cells of every served data center. */
  cells(): Cell[] {
    return [...this.#serving.values()].map((s) => s.cell)
  }

  /** The served data centers, in the order they started. */
  running(): RunningDataCenter[] {
    return [...this.#serving.values()].map((s) => ({
      id: s.record.id,
      city: s.record.city,
      jurisdiction: s.record.jurisdiction,
      status: this.#status.get(s.record.id) ?? s.record.status,
      endpoint: s.endpoint,
    }))
  }

  /**
   * A residency attestation of a tenant's bucket, signed by its home data center's cell. A
   * bucket that does not exist and another tenant's bucket get the same `NoSuchBucket`.
   */
  async attestBucket(request: AttestationRequest): Promise<AttestationAnswer> {
    const placement = await this.#directory.getBucket(request.bucket)
    if (placement === null || placement.tenantId !== request.tenantId) {
      throw DirectoryErrors.noSuchBucket(request.bucket)
    }
    const cell = this.cellOf(placement.dcId)
    if (cell === undefined) throw AdminErrors.dataCenterNotServed(request.bucket, placement.dcId)
    const answer = await attestBucket(cell, {
      bucket: request.bucket,
      tenantId: request.tenantId,
      accessKeyId: request.accessKeyId,
      secret: await this.#directory.ledgerSecretOf(request.tenantId),
      logEvent: this.#config.ledger.enabled,
      now: Date.now,
    })
    if (answer === null) throw DirectoryErrors.noSuchBucket(request.bucket)
    return answer
  }

  async list(): Promise<DataCenterView[]> {
    return (await this.#directory.listDataCenters()).map((r) => this.#view(r))
  }

  async get(id: string): Promise<DataCenterView | null> {
    const record = await this.#directory.getDataCenter(id)
    return record === null ? null : this.#view(record)
  }

  add(input: NewDataCenter, context: ChangeContext): Promise<DataCenterView> {
    return this.#serialized(async () => {
      this.#refuseWhenStopping()
      await this.#checkStoragePath(input)
      const folder = cellFolderOf(this.#config.dataDir, input)
      const existed = existsSync(folder)
      const record = await this.#directory.addDataCenter(input, {
        reservedPorts: [...this.#reservedPorts],
        actor: this.#actor(context.requestId),
      })
      this.#status.set(record.id, record.status)
      try {
        await this.#start(record)
      } catch (err) {
        // Undo, so a refused add changes nothing: no catalog entry, no new folder.
        this.#status.delete(record.id)
        await this.#directory.removeDataCenter(record.id)
        if (!existed) await rm(folder, { recursive: true, force: true })
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw DirectoryErrors.portInUse(input.port, 'another process')
        }
        throw err
      }
      this.#logger.info({ dc: record.id, status: record.status }, 'Data center added')
      return this.#view(record)
    })
  }

  transition(id: string, request: TransitionRequest): Promise<DataCenterView> {
    const { to } = request
    return this.#serialized(async () => {
      this.#refuseWhenStopping()
      // The directory records the change in its log, in the same transaction.
      const record = await this.#directory.transitionDataCenter(
        id,
        to,
        this.#actor(request.requestId),
      )
      this.#status.set(id, record.status)
      if (to === 'retired') await this.#stop(id)
      this.#logger.info({ dc: id, status: record.status }, 'Data center status changed')
      return this.#view(record)
    })
  }

  /**
   * A chosen storage folder must be the data center's alone: outside the data folder (which
   * holds the directory and the default folders), apart from every other data center's folder
   * (retired ones too: their files stay), and new or empty.
   */
  async #checkStoragePath(input: NewDataCenter): Promise<void> {
    const path = input.storagePath
    if (path === undefined || path === null) return
    const refuse = (reason: string) => {
      throw DirectoryErrors.invalidArgument('storage path', path, reason)
    }
    if (pathsOverlap(path, this.#config.dataDir)) {
      refuse(
        `it overlaps the data folder "${this.#config.dataDir}"; leave it out to use the default folder there`,
      )
    }
    for (const other of await this.#directory.listDataCenters()) {
      const theirs = cellFolderOf(this.#config.dataDir, other)
      if (pathsOverlap(path, theirs)) refuse(`it overlaps the folder of data center "${other.id}"`)
    }
    const entries = await readdir(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return []
      if (err.code === 'ENOTDIR') refuse('it is a file, not a folder')
      throw err
    })
    if (entries.length > 0) refuse('the folder is not empty')
  }

  /** A change that arrives during shutdown would start what is being stopped: refused. */
  #refuseWhenStopping(): void {
    if (this.#stopping !== null) throw new Error('Cannot change data centers: Sovra is stopping')
  }

  /** Runs lifecycle changes one after another, so a start and a stop never interleave. */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn)
    this.#queue = next.catch(() => undefined)
    return next
  }

  /** Who asked for a lifecycle change, as the directory's log records it. */
  #actor(requestId: string | undefined): LedgerActor {
    return requestId === undefined
      ? { kind: 'system', component: 'data-centers' }
      : { kind: 'operator', operator: 'operator-token', session: requestId }
  }

  async #start(record: DataCenterRecord): Promise<void> {
    const config = this.#config
    const originPrefix = config.ledger.originPrefix ?? `${config.publicHost}/ledger`
    const cell = await createCell(record, {
      dataDir: config.dataDir,
      logger: this.#logger,
      ...(this.#customerKeys === undefined ? {} : { customerKeys: this.#customerKeys }),
      ledgerSecretOf: (tenantId) => this.#directory.ledgerSecretOf(tenantId),
      keyRotation: config.keyRotation,
      lifecycle: config.lifecycle,
      ledgerEnabled: config.ledger.enabled,
      ledger: {
        origin: `${originPrefix}/${record.id}`,
        batchMaxDelayMs: config.ledger.batchMaxDelayMs,
        maxPending: config.ledger.maxPending,
        witnesses: config.ledger.witnesses,
        witnessQuorum: config.ledger.witnessQuorum,
      },
    })
    let started: { server: Server; endpoint: string }
    try {
      const handler = createS3Handler({
        cell,
        directory: this.#directory,
        transfers: this.#transfers,
        endpointOf: (dcId) => this.endpointOf(dcId),
        dcStatus: () => this.#status.get(record.id) ?? 'retired',
        logger: this.#logger,
        metrics: this.#metrics,
        settings: {
          maxClockSkewMs: config.s3.maxClockSkewSeconds * 1000,
          inlineMaxBytes: config.s3.inlineMaxBytes,
          virtualHostSuffixes: [...new Set([config.publicHost, 'localhost'])],
          ledgerReads: config.ledger.reads,
          ledgerEnabled: config.ledger.enabled,
        },
        now: Date.now,
      })
      started = await this.#listener.listen(handler, record.port)
    } catch (err) {
      await cell.close().catch(() => undefined)
      throw err
    }
    await this.#directory.setEndpoint(record.id, started.endpoint)
    this.#serving.set(record.id, { record, cell, ...started })
    this.ledgers.set(record.id, {
      dc: record.id,
      origin: cell.ledger.log.origin,
      verifierKey: cell.ledger.verifierKey,
      storage: cell.ledger.storage,
      // With witnesses, only a checkpoint a quorum cosigned is published.
      ...(cell.ledger.witnessing === undefined
        ? {}
        : { checkpoint: () => cell.ledger.servedCheckpoint() }),
    })
  }

  async #stop(id: string): Promise<void> {
    const serving = this.#serving.get(id)
    if (serving === undefined) return
    this.#serving.delete(id)
    this.ledgers.delete(id)
    await this.#listener.close(serving.server)
    await serving.cell.close()
  }

  #view(record: DataCenterRecord): DataCenterView {
    return {
      id: record.id,
      name: record.name,
      city: record.city,
      jurisdiction: record.jurisdiction,
      status: this.#status.get(record.id) ?? record.status,
      port: record.port,
      endpoint: this.endpointOf(record.id),
    }
  }
}
