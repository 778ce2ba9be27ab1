import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/core/index.js'
import { type RunningSovra, serve } from '../../src/main.js'
import { tempDir } from './tmp.js'

/** Root credentials every in-process test server uses. */
export const ROOT = {
  accessKeyId: 'SVRATESTROOTKEY00001',
  secretAccessKey: 'test-secret-key-0123456789abcdefghijklmn',
}

/** A Sovra started in this process on free ports of 127.0.0.1, with a temp data folder. */
export interface TestSovra {
  readonly sovra: RunningSovra
  readonly dataDir: string
  /** The S3 endpoint of a data center. */
  endpoint(dcId: string): string
  /** Lines the server logged (JSON), for assertions about logs. */
  readonly logs: string[]
  stop(): Promise<void>
}

/** Starts Sovra with the default catalog on free ports. `dataDir` reuses a folder (restart tests). */
export async function startSovra(
  options: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<TestSovra> {
  const dir = options.dataDir === undefined ? tempDir() : null
  const dataDir = options.dataDir ?? (dir as { path: string }).path
  const config = loadConfig({
    env: {
      SOVRA_DATA_DIR: dataDir,
      SOVRA_BASE_PORT: '0',
      SOVRA_ADMIN_PORT: '0',
      SOVRA_ROOT_ACCESS_KEY: ROOT.accessKeyId,
      SOVRA_ROOT_SECRET_KEY: ROOT.secretAccessKey,
      ...options.env,
    },
  })
  const logs: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      )
      cb()
    },
  })
  const sovra = await serve(config, { logger: createLogger('info', sink) })
  return {
    sovra,
    dataDir,
    logs,
    endpoint(dcId) {
      const dc = sovra.dataCenters.find((d) => d.id === dcId)
      if (dc === undefined) throw new Error(`No data center "${dcId}"`)
      return dc.endpoint
    },
    async stop() {
      await sovra.stop()
      dir?.remove()
    },
  }
}
