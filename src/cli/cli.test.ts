import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDirectory } from '../directory/index.js'
import type { RunningSovra } from '../main.js'
import type { CliIo, CliProcess } from './cli-io.js'
import { runCli } from './index.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-cli-'))
  dirs.push(dir)
  return dir
}

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

async function run(
  args: string[],
  env: Record<string, string>,
  extra: Partial<CliIo> = {},
): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    ...extra,
  })
  return { code, stdout, stderr }
}

describe('sovra tenant and key commands', () => {
  it('create a tenant and a key, list them, and revoke the key', async () => {
    const env = { SOVRA_DATA_DIR: tempDataDir() }
    const tenant = await run(['tenant', 'create', 'acme', '--json'], env)
    expect(tenant.code).toBe(0)
    const created = JSON.parse(tenant.stdout) as { id: string; name: string }
    expect(created.name).toBe('acme')

    const key = await run(['key', 'create', '--tenant', 'acme', '--json'], env)
    expect(key.code).toBe(0)
    const { accessKeyId, secretAccessKey } = JSON.parse(key.stdout) as {
      accessKeyId: string
      secretAccessKey: string
    }
    expect(secretAccessKey).toHaveLength(40)
    expect(key.stderr).toContain('cannot be shown again')

    const list = await run(['key', 'list'], env)
    expect(list.stdout).toMatch(/^ACCESS KEY ID\s+TENANT\s+STATUS/)
    expect(list.stdout).toContain(accessKeyId)
    expect(list.stdout).toContain('acme')
    expect(list.stdout).not.toContain(secretAccessKey)

    const revoke = await run(['key', 'revoke', accessKeyId], env)
    expect(revoke).toEqual({ code: 0, stdout: `Revoked access key "${accessKeyId}"\n`, stderr: '' })
    const after = JSON.parse((await run(['key', 'list', '--json'], env)).stdout) as Array<{
      status: string
    }>
    expect(after.map((k) => k.status)).toEqual(['revoked'])

    const tenants = await run(['tenant', 'list'], env)
    expect(tenants.stdout).toContain(created.id)
  })

  it('imports a key and prints the secret once in text form', async () => {
    const env = { SOVRA_DATA_DIR: tempDataDir() }
    await run(['tenant', 'create', 'acme'], env)
    const key = await run(
      ['key', 'create', '--tenant', 'acme', '--access-key', 'minio', '--secret-key', 'minio123'],
      env,
    )
    expect(key.code).toBe(0)
    expect(key.stdout).toContain('Access key id:     minio')
    expect(key.stdout).toContain('Secret access key: minio123')
  })

  it("key list --tenant shows only that tenant's keys", async () => {
    const env = { SOVRA_DATA_DIR: tempDataDir() }
    await run(['tenant', 'create', 'alpha'], env)
    await run(['tenant', 'create', 'beta'], env)
    await run(
      [
        'key',
        'create',
        '--tenant',
        'alpha',
        '--access-key',
        'alpha-key',
        '--secret-key',
        'secret-a1',
      ],
      env,
    )
    await run(
      [
        'key',
        'create',
        '--tenant',
        'beta',
        '--access-key',
        'beta-key',
        '--secret-key',
        'secret-b1',
      ],
      env,
    )
    const alpha = await run(['key', 'list', '--tenant', 'alpha'], env)
    expect(alpha.stdout).toContain('alpha-key')
    expect(alpha.stdout).not.toContain('beta-key')
  })

  it('reports domain errors as "sovra: <message>" with exit code 1', async () => {
    const env = { SOVRA_DATA_DIR: tempDataDir() }
    expect(await run(['key', 'create', '--tenant', 'ghost'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'sovra: Cannot find tenant "ghost": it does not exist\n',
    })
    await run(['tenant', 'create', 'acme'], env)
    const dup = await run(['tenant', 'create', 'acme'], env)
    expect(dup.code).toBe(1)
    expect(dup.stderr).toBe('sovra: Cannot create tenant "acme": it already exists\n')
    expect((await run(['key', 'revoke', 'NOPE'], env)).code).toBe(1)
  })

  it('reports usage errors with exit code 2', async () => {
    const env = { SOVRA_DATA_DIR: tempDataDir() }
    const unknown = await run(['key', 'frob'], env)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^sovra: unknown command 'frob'/)
    expect((await run(['--bogus'], env)).code).toBe(2)
    expect((await run(['key', 'create'], env)).stderr).toContain('--tenant')
    const half = await run(['key', 'create', '--tenant', 'acme', '--access-key', 'x1x'], env)
    expect(half).toMatchObject({
      code: 2,
      stderr: 'sovra: --access-key and --secret-key must be given together\n',
    })
  })

  it('rejects configuration errors, such as an unknown SOVRA_ variable', async () => {
    const result = await run(['tenant', 'list'], {
      SOVRA_DATA_DIR: tempDataDir(),
      SOVRA_DATADIR: 'x',
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('Unknown environment variable "SOVRA_DATADIR"')
  })

  it('--help exits 0', async () => {
    const result = await run(['--help'], {})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('tenant')
  })
})

describe('sovra dc list', () => {
  // No server answers: the local files are read (the live catalog is tested in
  // test/integration/cli-dc.test.ts against a running server).
  const offline = {
    fetch: async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') })
    },
  }

  it('lists the configured catalog before the directory exists, without creating it', async () => {
    const dataDir = tempDataDir()
    const result = await run(['dc', 'list', '--json'], { SOVRA_DATA_DIR: dataDir }, offline)
    expect(result.code).toBe(0)
    const dcs = JSON.parse(result.stdout) as Array<{ id: string; status: string }>
    expect(dcs.map((dc) => dc.id)).toEqual([
      'cn-hangzhou',
      'us-west-1',
      'us-east-1',
      'ap-southeast-1',
      'ap-northeast-1',
      'ap-south-1',
      'me-east-1',
    ])
    expect(existsSync(join(dataDir, 'directory.sqlite'))).toBe(false)
  })

  it('lists the directory catalog once the server has synced it, honouring --config', async () => {
    const dataDir = tempDataDir()
    const directory = await openDirectory({ dataDir })
    await directory.syncDataCenters([
      {
        id: 'eu-test-1',
        name: 'Test',
        city: 'Basel',
        jurisdiction: 'CH',
        status: 'draining',
        port: 7001,
      },
    ])
    await directory.close()
    const file = join(dataDir, 'sovra.json')
    writeFileSync(file, JSON.stringify({ dataDir }))
    const result = await run(['--config', file, 'dc', 'list'], {}, offline)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^DATA CENTER\s+NAME\s+CITY\s+JURISDICTION\s+STATUS\s+PORT\n/)
    expect(result.stdout).toMatch(/eu-test-1\s+Test\s+Basel\s+CH\s+draining\s+7001/)
    expect(result.stdout).not.toContain('cn-hangzhou')
  })

  it('fails when an explicit admin URL does not answer, instead of showing stale local data', async () => {
    const result = await run(
      ['dc', 'list', '--admin-url', 'http://127.0.0.1:9'],
      { SOVRA_DATA_DIR: tempDataDir() },
      offline,
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^sovra: Cannot reach the admin API at "http:\/\/127\.0\.0\.1:9"/)
  })
})

describe('sovra serve', () => {
  function fakeServe(rootCredentials: RunningSovra['rootCredentials'], stop: () => Promise<void>) {
    return async () =>
      ({
        dataCenters: [
          {
            id: 'us-west-1',
            city: 'Silicon Valley',
            jurisdiction: 'US',
            status: 'active',
            endpoint: 'http://127.0.0.1:9002',
          },
        ],
        adminEndpoint: 'http://127.0.0.1:9000',
        rootCredentials,
        operatorToken: rootCredentials === null ? null : 'sovra_op_first-start-token',
        stop,
      }) satisfies RunningSovra
  }

  function fakeProcess() {
    const handlers = new Map<string, () => void>()
    const exits: number[] = []
    const proc: CliProcess = {
      on: (signal, handler) => handlers.set(signal, handler),
      exit: (code) => {
        exits.push(code)
      },
    }
    return { proc, handlers, exits }
  }

  it('prints endpoints, the admin endpoint and first-start credentials once', async () => {
    const { proc } = fakeProcess()
    const result = await run(
      ['serve'],
      { SOVRA_DATA_DIR: tempDataDir(), SOVRA_LOG_LEVEL: 'silent' },
      {
        process: proc,
        serve: fakeServe(
          { accessKeyId: 'SVRAROOT', secretAccessKey: 'root-secret' },
          async () => {},
        ),
      },
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^DATA CENTER\s+CITY\s+JURISDICTION\s+STATUS\s+ENDPOINT\n/)
    expect(result.stdout).toMatch(
      /us-west-1\s+Silicon Valley\s+US\s+active\s+http:\/\/127\.0\.0\.1:9002/,
    )
    expect(result.stdout).toContain('Admin endpoint: http://127.0.0.1:9000')
    expect(result.stdout).toContain('SVRAROOT')
    expect(result.stdout).toContain('root-secret')
    expect(result.stdout).toContain('Store the secret access key now')
    expect(result.stdout).toMatch(/Operator token .*: sovra_op_first-start-token\n/)
  })

  it('prints no credentials on later starts', async () => {
    const { proc } = fakeProcess()
    const result = await run(
      ['serve'],
      { SOVRA_DATA_DIR: tempDataDir(), SOVRA_LOG_LEVEL: 'silent' },
      {
        process: proc,
        serve: fakeServe(null, async () => {}),
      },
    )
    expect(result.stdout).not.toContain('Secret access key')
    expect(result.stdout).not.toContain('Operator token')
  })

  it('stops once on SIGTERM and exits 0; a second signal exits 1 at once', async () => {
    const { proc, handlers, exits } = fakeProcess()
    let stops = 0
    let finish: () => void = () => {}
    const stopped = new Promise<void>((resolve) => {
      finish = resolve
    })
    await run(
      ['serve'],
      { SOVRA_DATA_DIR: tempDataDir(), SOVRA_LOG_LEVEL: 'silent' },
      {
        process: proc,
        serve: fakeServe(null, () => {
          stops++
          return stopped
        }),
      },
    )
    handlers.get('SIGTERM')?.()
    handlers.get('SIGINT')?.()
    expect(stops).toBe(1)
    expect(exits).toEqual([1])
    finish()
    await stopped
    await new Promise((resolve) => setImmediate(resolve))
    expect(exits).toEqual([1, 0])
  })

  it('reports a failed start as "sovra: <message>" with exit code 1', async () => {
    const result = await run(
      ['serve'],
      { SOVRA_DATA_DIR: tempDataDir(), SOVRA_LOG_LEVEL: 'silent' },
      {
        process: fakeProcess().proc,
        serve: async () => {
          throw new Error('Cannot listen on "127.0.0.1:9001": address in use')
        },
      },
    )
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'sovra: Cannot listen on "127.0.0.1:9001": address in use\n',
    })
  })
})
