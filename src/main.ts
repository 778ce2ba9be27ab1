import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { ensureOperatorToken } from './access/index.js'
import type { KmsKeyControl } from './admin-api/index.js'
import { createAdminHandler, registerWitnessMetrics } from './admin-api/index.js'
import { type CellLedger, CustomerKeyProviders, openCellLedger } from './cell/index.js'
import type { SovraConfig } from './config/index.js'
import type { Logger } from './core/index.js'
import { DataCenterRuntime, type RunningDataCenter } from './data-centers.js'
import {
  DIRECTORY_LEDGER_ID,
  type Directory,
  DirectoryErrors,
  openDirectory,
} from './directory/index.js'
import { type OutboxDrain, startOutboxDrain } from './ledger/index.js'
import { createTransferService, loadExportRules, type TransferService } from './residency/index.js'
import { createS3Metrics } from './s3-api/index.js'

export type { RunningDataCenter } from './data-centers.js'

/** A started Sovra: its endpoints, first-start credentials, and a way to stop it. */
export interface RunningSovra {
  /** The data centers served now (data centers added or retired at run time included). */
  readonly dataCenters: readonly RunningDataCenter[]
  readonly adminEndpoint: string
  readonly rootCredentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
  } | null
  /** The operator token, on the first start that created it (printed once); null otherwise. */
  readonly operatorToken: string | null
  /**
   * The transfer gate's service (signing keys, instructions, jobs); always set by serve(),
   * optional only so that test doubles of RunningSovra need not build one.
   */
  readonly transfers?: TransferService
  stop(): Promise<void>
}

/** How long in-flight requests may run after a stop before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000

/** The admin API's version, shown in its OpenAPI document. */
const ADMIN_API_VERSION = '1.0.0'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function listen(
  handler: Handler,
  options: { host: string; port: number; maxHeaderSize: number },
): Promise<Server> {
  const server = createServer(
    { maxHeaderSize: options.maxHeaderSize, requestTimeout: 0, keepAliveTimeout: 5_000 },
    handler,
  )
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>RequestHeaderSectionTooLarge</Code><Message>Your request header section exceeds the maximum allowed size.</Message></Error>'
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
      return
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

function urlOf(host: string, server: Server): string {
  const port = (server.address() as AddressInfo).port
  const h = host.includes(':') ? `[${host}]` : host
  return `http://${h}:${port}`
}

async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS)
  await closed
  clearTimeout(timer)
}

/**
 * The admin API's KMS key registry: the directory's, plus what only this process knows (which
 * buckets name a key, in their cells; the providers to drop when a key is removed).
 */
function kmsKeyControl(
  directory: Directory,
  dcs: DataCenterRuntime,
  providers: CustomerKeyProviders,
): KmsKeyControl {
  return {
    async add(key) {
      for (const dc of key.dataCenters ?? []) {
        if ((await directory.getDataCenter(dc)) === null) throw DirectoryErrors.noSuchDataCenter(dc)
      }
      const added = await directory.addKmsKey(key)
      providers.forget(key.tenantId, key.keyId)
      return added
    },
    list: (tenantId) => directory.listKmsKeys(tenantId),
    async remove(tenantId, keyId) {
      const bucket = await dcs.bucketNamingKmsKey(tenantId, keyId)
      if (bucket !== null) throw DirectoryErrors.kmsKeyInUse(keyId, bucket)
      const removed = await directory.removeKmsKey(tenantId, keyId)
      providers.forget(tenantId, keyId)
      return removed
    },
  }
}

/**
 * Opens the directory (seeding its catalog from config), starts one S3 endpoint per data center
 * the directory holds and the admin endpoint. Data centers can then be added and retired while it
 * runs. Nothing here is global: two Sovras can run in one process (tests do).
 */
export async function serve(
  config: SovraConfig,
  options: { logger: Logger },
): Promise<RunningSovra> {
  const logger = options.logger
  // Read before anything opens: invalid export rules refuse the start (ExportRulesInvalid).
  const exportRules = loadExportRules()
  const directory = await openDirectory({ dataDir: config.dataDir })
  let runtime: DataCenterRuntime | null = null
  let admin: Server | null = null
  let directoryLog: CellLedger | undefined
  let directoryDrain: OutboxDrain | undefined
  // The transfer gate is the only holder of two cells; it reaches them through this lookup.
  const transfers = createTransferService({
    directory,
    exportRules,
    logger: logger.child({ component: 'transfer-gate' }),
    now: Date.now,
    cellOf: (id) => runtime?.cellOf(id),
    inlineMaxBytes: config.s3.inlineMaxBytes,
  })
  try {
    // The directory's own log: catalog, tenant and key changes, which commit their events into
    // the directory's outbox in the same transaction; the drain moves them to the log.
    const originPrefix = config.ledger.originPrefix ?? `${config.publicHost}/ledger`
    directoryLog = await openCellLedger(join(config.dataDir, DIRECTORY_LEDGER_ID), {
      origin: `${originPrefix}/${DIRECTORY_LEDGER_ID}`,
      batchMaxDelayMs: config.ledger.batchMaxDelayMs,
      maxPending: config.ledger.maxPending,
      logger: logger.child({ ledger: DIRECTORY_LEDGER_ID }),
    })
    const directoryLedger = directoryLog
    directoryDrain = await startOutboxDrain(
      {
        read: (limit) => directory.readLedgerOutbox(limit),
        ack: (seq) => directory.ackLedgerOutbox(seq),
      },
      directoryLedger.log,
      directoryLedger.storage,
      { logger },
    )
    if (!config.ledger.enabled) {
      logger.warn(
        'ledger.enabled is false: nothing is recorded in the transparency logs, so none of their proofs hold (use only to measure the cost of the log)',
      )
    }
    const seeded = await directory.seedDataCenters(config.dataCenters)
    for (const kept of seeded.kept) {
      logger.warn(
        { dc: kept.id, field: kept.field, config: kept.config, directory: kept.directory },
        'Configuration disagrees with the directory: the directory wins (change it through the admin API)',
      )
    }
    const root = await directory.ensureRootTenant({
      ...(config.rootCredentials.accessKeyId === undefined
        ? {}
        : { accessKeyId: config.rootCredentials.accessKeyId }),
      ...(config.rootCredentials.secretAccessKey === undefined
        ? {}
        : { secretAccessKey: config.rootCredentials.secretAccessKey }),
    })
    const operatorToken = await ensureOperatorToken({
      store: directory,
      dataDir: config.dataDir,
      configured: config.operatorToken,
    })
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    // One provider per registered customer KMS key, shared by every cell (one DEK cache each).
    const customerKeys = new CustomerKeyProviders(
      async (tenantId, keyId) => directory.kmsKeyWithToken(tenantId, keyId),
      {
        cacheTtlMs: config.kms.cacheTtlMs,
        cacheMaxEntries: config.kms.cacheMaxEntries,
        logger: logger.child({ component: 'customer-keys' }),
      },
    )
    const dcs = new DataCenterRuntime({
      config,
      directory,
      logger,
      metrics: createS3Metrics(registry),
      transfers,
      customerKeys: customerKeys.resolve,
      listener: {
        async listen(handler, port) {
          const server = await listen(handler, {
            host: config.bindAddress,
            port,
            maxHeaderSize: config.s3.maxHeaderBytes,
          })
          return { server, endpoint: urlOf(config.publicHost, server) }
        },
        close,
      },
    })
    runtime = dcs
    dcs.reservePort(config.adminPort)
    await dcs.startAll()
    dcs.ledgers.set(DIRECTORY_LEDGER_ID, {
      dc: DIRECTORY_LEDGER_ID,
      origin: directoryLedger.log.origin,
      verifierKey: directoryLedger.verifierKey,
      storage: directoryLedger.storage,
    })
    registerWitnessMetrics(registry, () =>
      dcs.cells().flatMap((c) => {
        const w = c.ledger.witnessing
        return w === undefined ? [] : [{ dc: c.dc.id, status: () => w.status() }]
      }),
    )
    const adminServer = await listen(
      createAdminHandler({
        registry,
        ledgers: dcs.ledgers,
        dataCenters: dcs,
        ledgerOf: (id) => (id === DIRECTORY_LEDGER_ID ? directoryLedger : dcs.cellOf(id)?.ledger),
        ledgerSecretOf: (tenantId) => directory.ledgerSecretOf(tenantId),
        signingKeys: transfers,
        transfers,
        kmsKeys: kmsKeyControl(directory, dcs, customerKeys),
        bucketPlacement: (bucket) => directory.getBucket(bucket),
        keyRotationsOf: (id) => dcs.cellOf(id)?.rotations,
        attestBucket: (request) => dcs.attestBucket(request),
        logger,
        version: ADMIN_API_VERSION,
        auth: {
          operatorToken: operatorToken.check,
          directory,
          regions: () => dcs.servedIds(),
          maxClockSkewMs: config.s3.maxClockSkewSeconds * 1000,
          now: Date.now,
        },
      }),
      {
        host: config.bindAddress,
        port: config.adminPort,
        maxHeaderSize: config.s3.maxHeaderBytes,
      },
    )
    admin = adminServer
    dcs.reservePort((adminServer.address() as AddressInfo).port)
    const adminEndpoint = urlOf(config.publicHost, adminServer)
    logger.info({ dataCenters: dcs.running().length, admin: adminEndpoint }, 'Sovra started')
    transfers.start()
    let stopping: Promise<void> | null = null
    return {
      get dataCenters() {
        return dcs.running()
      },
      adminEndpoint,
      rootCredentials: root.credentials,
      operatorToken: operatorToken.created,
      transfers,
      stop() {
        stopping ??= (async () => {
          await close(adminServer)
          await transfers.close()
          await dcs.stopAll()
          customerKeys.clear()
          await directoryDrain?.stop()
          await directoryLedger.log.close()
          directoryLedger.index.close()
          await directory.close()
          logger.info('Sovra stopped')
        })()
        return stopping
      },
    }
  } catch (err) {
    if (admin !== null) await close(admin).catch(() => undefined)
    await transfers.close().catch(() => undefined)
    await runtime?.stopAll().catch(() => undefined)
    await directoryDrain?.stop().catch(() => undefined)
    await directoryLog?.log.close().catch(() => undefined)
    directoryLog?.index.close()
    await directory.close().catch(() => undefined)
    throw err
  }
}
