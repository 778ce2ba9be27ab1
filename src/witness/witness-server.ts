import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Logger } from '../core/index.js'
import {
  ed25519Verifier,
  JsonFileWitnessStateStore,
  parseVerifierKey,
  Witness,
  type WitnessedLog,
} from '../ledger/index.js'
import { lockStateDir } from './state-lock.js'
import { loadOrCreateWitnessKey } from './witness-key.js'

/** An add-checkpoint body larger than this is refused (413): 63 proof lines and a note fit. */
export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024

/** File name of the per-origin state (latest cosigned size and root) inside the state folder. */
export const WITNESS_STATE_FILE = 'witness-state.json'

/** Options of `startWitness`. */
export interface WitnessServerOptions {
  /** Folder holding the witness key and its per-origin state; one process owns it. */
  readonly stateDir: string
  /** Verifier keys (type 0x01) of the logs to witness; each key's name is the log's origin. */
  readonly logs: readonly string[]
  /** Key name used when the key is created on first start. */
  readonly name: string
  /** Address to listen on (default 127.0.0.1). */
  readonly host?: string
  /** Port to listen on; 0 picks a free one. */
  readonly port: number
  readonly logger: Logger
  /** POSIX seconds for cosignature timestamps (tests). */
  readonly now?: () => number
}

/** A running witness. */
export interface RunningWitness {
  /** `http://host:port`: the submission prefix logs POST `/add-checkpoint` under. */
  readonly url: string
  readonly name: string
  /** Cosignature verifier key for `ledger verify --witness` and `ledger.witnesses`. */
  readonly verifierKey: string
  /** True when this start created the key. */
  readonly keyCreated: boolean
  /** Origins this witness cosigns for. */
  readonly origins: readonly string[]
  stop(): Promise<void>
}

/** The logs a witness knows, from verifier keys; an origin given twice is an error. */
export function witnessedLogs(keys: readonly string[]): WitnessedLog[] {
  const byOrigin = new Map<string, WitnessedLog>()
  for (const key of keys) {
    const parsed = parseVerifierKey(key.trim())
    if (byOrigin.has(parsed.name)) {
      throw new Error(`Cannot witness log "${parsed.name}": it is given more than once`)
    }
    byOrigin.set(parsed.name, { origin: parsed.name, verifiers: [ed25519Verifier(parsed)] })
  }
  return [...byOrigin.values()]
}

/**
 * The witness's request listener: `POST /add-checkpoint` as c2sp.org/tlog-witness specifies
 * (bodies over MAX_ADD_CHECKPOINT_BYTES get 413, bodies that are not UTF-8 400); anything else
 * is 404, or 405 for another method on `/add-checkpoint`.
 */
export function createWitnessHandler(
  witness: Witness,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string, extra = {}) => {
      res.writeHead(status, {
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        ...extra,
      })
      res.end(body)
    }
    if (path !== '/add-checkpoint') {
      send(404, 'text/plain; charset=utf-8', `No witness resource at "${path}"\n`)
      return
    }
    if (req.method !== 'POST') {
      send(405, 'text/plain; charset=utf-8', 'Use POST for /add-checkpoint\n', { allow: 'POST' })
      return
    }
    readBody(req).then(
      async (body) => {
        if (body === 'too-large') {
          send(
            413,
            'text/plain; charset=utf-8',
            `Cannot add checkpoint: the body exceeds ${MAX_ADD_CHECKPOINT_BYTES} bytes\n`,
            { connection: 'close' },
          )
          return
        }
        let text: string
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(body)
        } catch {
          send(400, 'text/plain; charset=utf-8', 'Cannot add checkpoint: the body is not UTF-8\n')
          return
        }
        const answer = await witness.addCheckpoint(text)
        const level = answer.status === 200 ? 'debug' : 'info'
        logger[level]({ status: answer.status, answer: answer.body.trim() }, 'add-checkpoint')
        send(answer.status, answer.contentType, answer.body)
      },
      (err: unknown) => {
        logger.error({ err }, 'Cannot handle add-checkpoint')
        if (!res.headersSent) send(500, 'text/plain; charset=utf-8', 'Witness failed\n')
      },
    )
  }
}

/** Reads a request body up to MAX_ADD_CHECKPOINT_BYTES. */
function readBody(req: IncomingMessage): Promise<Uint8Array | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > MAX_ADD_CHECKPOINT_BYTES) over = true
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * Starts a witness: loads (or creates) its key and state in `stateDir`, then answers
 * `POST /add-checkpoint` on `host:port`. State updates are atomic with the old-size check and
 * durable before the cosignature is returned.
 */
export async function startWitness(options: WitnessServerOptions): Promise<RunningWitness> {
  const logs = witnessedLogs(options.logs)
  if (logs.length === 0) throw new Error('Cannot start a witness: no log to witness (--log)')
  const release = await lockStateDir(options.stateDir)
  try {
    return await listen(options, logs, release)
  } catch (err) {
    await release()
    throw err
  }
}

async function listen(
  options: WitnessServerOptions,
  logs: readonly WitnessedLog[],
  release: () => Promise<void>,
): Promise<RunningWitness> {
  const key = await loadOrCreateWitnessKey(options.stateDir, {
    name: options.name,
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const store = new JsonFileWitnessStateStore(join(options.stateDir, WITNESS_STATE_FILE))
  // Reads the state file now: a damaged one stops the start instead of failing every request.
  await store.get((logs[0] as WitnessedLog).origin)
  const witness = new Witness({ logs, signers: [key.signer], store })
  const logger = options.logger.child({ witness: key.name })
  const host = options.host ?? '127.0.0.1'
  const server: Server = createServer(
    { requestTimeout: 30_000, keepAliveTimeout: 5_000 },
    createWitnessHandler(witness, logger),
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  logger.info({ url, origins: logs.map((l) => l.origin) }, 'Witness started')
  let stopping: Promise<void> | undefined
  return {
    url,
    name: key.name,
    verifierKey: key.verifierKey,
    keyCreated: key.created,
    origins: logs.map((l) => l.origin),
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }).then(release)
      return stopping
    },
  }
}
