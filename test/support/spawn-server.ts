// Starts the BUILT server (`node dist/cli/bin.js serve`) as a child process, the way an operator
// runs it. End-to-end tests use this instead of start-server.ts: they must not import from src/.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Root credentials every spawned server is started with. */
export const E2E_ROOT = Object.freeze({
  accessKeyId: 'SVRAE2EROOTKEY000001',
  secretAccessKey: 'e2e-secret-key-0123456789abcdefghijklmn',
})

/** The data centers of the default catalog. */
export const DC_IDS = [
  'cn-hangzhou',
  'us-west-1',
  'us-east-1',
  'ap-southeast-1',
  'ap-northeast-1',
  'ap-south-1',
  'me-east-1',
] as const

export interface SpawnedDataCenter {
  readonly id: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly endpoint: string
}

/** A Sovra running as a child process on 127.0.0.1. */
export interface SpawnedSovra {
  /** The S3 endpoint of a data center, e.g. `http://127.0.0.1:40631`. */
  endpoint(dcId: string): string
  /** Host and port of a data center's endpoint, e.g. `127.0.0.1:40631`. */
  hostPort(dcId: string): string
  readonly dataCenters: readonly SpawnedDataCenter[]
  readonly adminEndpoint: string
  readonly dataDir: string
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly pid: number
  /** Everything the process wrote (stdout and stderr), for failure messages. */
  output(): string
  /** Sends a signal and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM (SIGKILL after a grace period), then removes the data folder if this call made it. */
  stop(): Promise<void>
}

export interface SpawnOptions {
  /** Reuse a data folder (restart tests). It is then never removed by `stop()`. */
  readonly dataDir?: string
  /** Extra `SOVRA_*` variables. */
  readonly env?: Record<string, string>
  readonly logLevel?: string
  /** How long to wait for every endpoint to answer. */
  readonly startTimeoutMs?: number
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(REPO, 'dist', 'cli', 'bin.js')

/** Children still running; killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

/** A child environment without any inherited `SOVRA_*` variable (the server rejects unknown ones). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('SOVRA_')) env[name] = value
  }
  return { ...env, ...extra }
}

/** Starts `node dist/cli/bin.js serve` with free ports and waits until every endpoint answers. */
export async function spawnSovra(options: SpawnOptions = {}): Promise<SpawnedSovra> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first`)
  installExitHook()
  const ownsDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sovra-e2e-'))
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: REPO,
    env: childEnv({
      SOVRA_DATA_DIR: dataDir,
      SOVRA_BIND_ADDRESS: '127.0.0.1',
      SOVRA_PUBLIC_HOST: '127.0.0.1',
      SOVRA_BASE_PORT: '0',
      SOVRA_ADMIN_PORT: '0',
      SOVRA_ROOT_ACCESS_KEY: E2E_ROOT.accessKeyId,
      SOVRA_ROOT_SECRET_KEY: E2E_ROOT.secretAccessKey,
      SOVRA_LOG_LEVEL: options.logLevel ?? 'warn',
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  const chunks: string[] = []
  child.stdout?.setEncoding('utf8').on('data', (s: string) => chunks.push(s))
  child.stderr?.setEncoding('utf8').on('data', (s: string) => chunks.push(s))
  const output = () => chunks.join('')
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      done({ code, signal })
    })
  })
  let hasExited = false
  void exited.then(() => {
    hasExited = true
  })

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!hasExited) child.kill(signal)
    return exited
  }
  const stop = async () => {
    if (!hasExited) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000)
    const adminEndpoint = await waitFor(deadline, () => {
      if (hasExited) throw new Error('the server exited')
      return /^Admin endpoint: (http:\/\/\S+)$/m.exec(output())?.[1]
    })
    const dataCenters = await waitFor(deadline, async () => {
      if (hasExited) throw new Error('the server exited')
      const res = await httpGet(`${adminEndpoint}/admin/v1/data-centers`).catch(() => null)
      if (res?.status !== 200) return undefined
      return (JSON.parse(res.body) as { dataCenters: SpawnedDataCenter[] }).dataCenters
    })
    for (const dc of dataCenters) {
      await waitFor(deadline, async () => {
        if (hasExited) throw new Error('the server exited')
        // Any HTTP answer (even 403 for an anonymous request) means the endpoint is serving.
        return (await httpGet(`${dc.endpoint}/`).catch(() => null)) ?? undefined
      })
    }
    const byId = new Map(dataCenters.map((dc) => [dc.id, dc]))
    const endpoint = (dcId: string) => {
      const dc = byId.get(dcId)
      if (dc === undefined) throw new Error(`No data center "${dcId}"`)
      return dc.endpoint
    }
    return {
      endpoint,
      hostPort: (dcId) => new URL(endpoint(dcId)).host,
      dataCenters,
      adminEndpoint,
      dataDir,
      credentials: E2E_ROOT,
      pid: child.pid as number,
      output,
      kill,
      stop,
    }
  } catch (err) {
    await kill('SIGKILL')
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true })
    throw new Error(`Sovra did not start: ${(err as Error).message}\n--- output ---\n${output()}`)
  }
}

async function waitFor<T>(
  deadline: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out waiting for the server')
    await new Promise((r) => setTimeout(r, 50))
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'GET', timeout: 2_000, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (b: Buffer) => parts.push(b))
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }),
      )
      res.on('error', fail)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', fail)
    req.end()
  })
}
