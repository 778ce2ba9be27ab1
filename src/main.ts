import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { createAdminHandler } from './admin-api/index.js'
import { type Cell, createCell } from './cell/index.js'
import type { SovraConfig } from './config/index.js'
import type { Logger } from './core/index.js'
import { openDirectory } from './directory/index.js'
import { createTransferService, loadExportRules, type TransferService } from './residency/index.js'
import { createS3Handler, createS3Metrics } from './s3-api/index.js'

/** One data center as started by serve(). */
export interface RunningDataCenter {
  readonly id: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly endpoint: string
}

/** A started Sovra: its endpoints, first-start credentials, and a way to stop it. */
export interface RunningSovra {
  readonly dataCenters: readonly RunningDataCenter[]
  readonly adminEndpoint: string
  readonly rootCredentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
  } | null
  /**
   * The transfer gate's service (signing keys, instructions, jobs); always set by serve(),
   * optional only so that test doubles of RunningSovra need not build one.
   */
  readonly transfers?: TransferService
  stop(): Promise<void>
}

/** How long in-flight requests may run after a stop before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000

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
 * Builds the directory and every cell from config, then starts one S3 endpoint per data center
 * and the admin endpoint. Nothing here is global: two Sovras can run in one process (tests do).
 */
export async function serve(
  config: SovraConfig,
  options: { logger: Logger },
): Promise<RunningSovra> {
  const logger = options.logger
  // Read before anything opens: invalid export rules refuse the start (ExportRulesInvalid).
  const exportRules = loadExportRules()
  const directory = await openDirectory({ dataDir: config.dataDir })
  const cells: Cell[] = []
  const servers: Server[] = []
  // The transfer gate is the only holder of two cells; it reaches them through this lookup.
  const cellsById = new Map<string, Cell>()
  const transfers = createTransferService({
    directory,
    exportRules,
    logger: logger.child({ component: 'transfer-gate' }),
    now: Date.now,
    cellOf: (id) => cellsById.get(id),
    inlineMaxBytes: config.s3.inlineMaxBytes,
  })
  try {
    await directory.syncDataCenters(config.dataCenters)
    const root = await directory.ensureRootTenant({
      ...(config.rootCredentials.accessKeyId === undefined
        ? {}
        : { accessKeyId: config.rootCredentials.accessKeyId }),
      ...(config.rootCredentials.secretAccessKey === undefined
        ? {}
        : { secretAccessKey: config.rootCredentials.secretAccessKey }),
    })
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    const metrics = createS3Metrics(registry)
    const endpoints = new Map<string, string>()
    const statuses = new Map(config.dataCenters.map((dc) => [dc.id, dc.status as string]))
    const running: RunningDataCenter[] = []
    const hostSuffixes = [...new Set([config.publicHost, 'localhost'])]
    for (const dc of config.dataCenters) {
      if (dc.status === 'retired') continue
      const originPrefix = config.ledger.originPrefix ?? `${config.publicHost}/ledger`
      const cell = await createCell(dc, {
        dataDir: config.dataDir,
        logger,
        ledger: {
          origin: `${originPrefix}/${dc.id}`,
          batchMaxDelayMs: config.ledger.batchMaxDelayMs,
          maxPending: config.ledger.maxPending,
        },
      })
      cells.push(cell)
      cellsById.set(dc.id, cell)
      const handler = createS3Handler({
        cell,
        directory,
        transfers,
        endpointOf: (id) => endpoints.get(id) ?? null,
        dcStatus: () => statuses.get(dc.id) ?? 'retired',
        logger,
        metrics,
        settings: {
          maxClockSkewMs: config.s3.maxClockSkewSeconds * 1000,
          inlineMaxBytes: config.s3.inlineMaxBytes,
          virtualHostSuffixes: hostSuffixes,
          ledgerReads: config.ledger.reads,
        },
        now: Date.now,
      })
      const server = await listen(handler, {
        host: config.bindAddress,
        port: dc.port,
        maxHeaderSize: config.s3.maxHeaderBytes,
      })
      servers.push(server)
      const endpoint = urlOf(config.publicHost, server)
      endpoints.set(dc.id, endpoint)
      await directory.setEndpoint(dc.id, endpoint)
      running.push({
        id: dc.id,
        city: dc.city,
        jurisdiction: dc.jurisdiction,
        status: dc.status,
        endpoint,
      })
    }
    const ledgers = new Map(
      cells.map((cell) => [
        cell.dc.id,
        {
          dc: cell.dc.id,
          origin: cell.ledger.log.origin,
          verifierKey: cell.ledger.verifierKey,
          storage: cell.ledger.storage,
        },
      ]),
    )
    const admin = await listen(
      createAdminHandler({ registry, dataCenters: () => running, ledgers }),
      {
        host: config.bindAddress,
        port: config.adminPort,
        maxHeaderSize: config.s3.maxHeaderBytes,
      },
    )
    servers.push(admin)
    const adminEndpoint = urlOf(config.publicHost, admin)
    transfers.start()
    logger.info({ dataCenters: running.length, admin: adminEndpoint }, 'Sovra started')
    let stopping: Promise<void> | null = null
    return {
      dataCenters: running,
      adminEndpoint,
      rootCredentials: root.credentials,
      transfers,
      stop() {
        stopping ??= (async () => {
          await Promise.all(servers.map(close))
          await transfers.close()
          for (const cell of cells) await cell.close()
          await directory.close()
          logger.info('Sovra stopped')
        })()
        return stopping
      },
    }
  } catch (err) {
    await Promise.allSettled(servers.map(close))
    await transfers.close().catch(() => undefined)
    for (const cell of cells) await cell.close().catch(() => undefined)
    await directory.close().catch(() => undefined)
    throw err
  }
}
