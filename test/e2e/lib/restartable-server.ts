// A built server for one e2e test file, with the aws cli bound to it, that a test can crash.
import { afterAll, beforeAll } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../../support/spawn-server.js'
import { AWS, awsCliFor, type RunResult, run, runOk, tempDir } from './e2e-helpers.js'

type Folder = { path: string; remove: () => void }

/**
 * Starts the built server on a data folder of its own before the file's tests and stops it
 * (removing its folders) after. `restart()` SIGKILLs it and starts it again on the same folder,
 * as a crash would. `s3apiRun(dc, args)` runs `aws s3api` against one data center (endpoints
 * change on restart, so they are looked up per call); `s3api` also requires success and parses
 * its JSON output ({} when empty).
 */
export function restartableSovra(prefix: string) {
  let server: SpawnedSovra | undefined
  let data: Folder | undefined
  let work: Folder | undefined
  let env: NodeJS.ProcessEnv = {}

  beforeAll(async () => {
    data = tempDir(prefix)
    server = await spawnSovra({ dataDir: data.path })
    work = tempDir()
    env = awsCliFor(server, work.path).env
  })
  afterAll(async () => {
    await server?.stop()
    data?.remove()
    work?.remove()
  })

  const started = (): SpawnedSovra => {
    if (server === undefined) throw new Error('The server is not started (use it inside tests)')
    return server
  }
  const s3apiArgs = (dc: string, args: readonly string[]) => [
    '--endpoint-url',
    started().endpoint(dc),
    '--region',
    dc,
    's3api',
    ...args,
  ]

  return {
    get server(): SpawnedSovra {
      return started()
    },
    /** A scratch folder for the clients' files. */
    get work(): string {
      return (work as Folder).path
    },
    /** The aws cli's environment (also fine for boto3). */
    get env(): NodeJS.ProcessEnv {
      return env
    },
    /** SIGKILLs the server and starts it again on the same data folder; how it ended. */
    async restart(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
      const killed = await started().kill('SIGKILL')
      server = await spawnSovra({ dataDir: (data as Folder).path })
      return killed
    },
    s3apiRun(dc: string, args: readonly string[]): Promise<RunResult> {
      return run(AWS, s3apiArgs(dc, args), { env })
    },
    async s3api(dc: string, args: readonly string[]): Promise<Record<string, unknown>> {
      const r = await runOk(AWS, s3apiArgs(dc, args), { env })
      return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, unknown>)
    },
  }
}
