import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from './config-error.js'
import { DEFAULT_CONFIG } from './default-topology.js'
import { loadConfig } from './load-config.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function writeConfig(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-config-'))
  dirs.push(dir)
  const file = join(dir, 'sovra.json')
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

function failure(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('Expected a ConfigError')
}

const oneDc = [{ id: 'eu-test-1', name: 'Test', city: 'Basel', jurisdiction: 'CH', port: 7001 }]

describe('loadConfig()', () => {
  it('returns the embedded default topology with no file and no env', () => {
    const config = loadConfig({ env: {} })
    expect(config.dataDir).toBe('./data')
    expect(config.bindAddress).toBe('127.0.0.1')
    expect(config.publicHost).toBe('127.0.0.1')
    expect(config.adminPort).toBe(9000)
    expect(config.logLevel).toBe('info')
    expect(config.s3).toEqual({
      maxClockSkewSeconds: 900,
      inlineMaxBytes: 65536,
      maxHeaderBytes: 16384,
    })
    expect(config.rootCredentials).toEqual({})
    expect(config.dataCenters.map((dc) => [dc.id, dc.jurisdiction, dc.port])).toEqual([
      ['cn-hangzhou', 'CN', 9001],
      ['us-west-1', 'US', 9002],
      ['us-east-1', 'US', 9003],
      ['ap-southeast-1', 'SG', 9004],
      ['ap-northeast-1', 'JP', 9005],
      ['ap-south-1', 'IN', 9006],
      ['me-east-1', 'AE', 9007],
    ])
    expect(config.dataCenters.find((dc) => dc.id === 'ap-south-1')?.status).toBe('planned')
    expect(config.dataCenters.find((dc) => dc.id === 'us-west-1')?.city).toBe('Silicon Valley')
  })

  it('returns a deeply frozen tree', () => {
    const config = loadConfig({ env: {} })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.dataCenters)).toBe(true)
    expect(Object.isFrozen(config.dataCenters[0])).toBe(true)
    expect(Object.isFrozen(config.s3)).toBe(true)
    expect(Object.isFrozen(DEFAULT_CONFIG.dataCenters[0])).toBe(true)
  })

  it('applies defaults, then the file, then the environment', () => {
    const file = writeConfig({
      dataDir: '/srv/file',
      adminPort: 8000,
      logLevel: 'warn',
      s3: { maxClockSkewSeconds: 60 },
      dataCenters: oneDc,
    })
    const config = loadConfig({
      file,
      env: { SOVRA_DATA_DIR: '/srv/env', SOVRA_LOG_LEVEL: 'debug' },
    })
    expect(config.dataDir).toBe('/srv/env')
    expect(config.adminPort).toBe(8000)
    expect(config.logLevel).toBe('debug')
    expect(config.s3).toEqual({
      maxClockSkewSeconds: 60,
      inlineMaxBytes: 65536,
      maxHeaderBytes: 16384,
    })
  })

  it("replaces the default catalog entirely with the file's dataCenters", () => {
    const config = loadConfig({ file: writeConfig({ dataCenters: oneDc }), env: {} })
    expect(config.dataCenters).toEqual([{ ...oneDc[0], status: 'active' }])
  })

  it('reads the file named by SOVRA_CONFIG, and the file option wins over it', () => {
    const a = writeConfig({ adminPort: 8001 })
    const b = writeConfig({ adminPort: 8002 })
    expect(loadConfig({ env: { SOVRA_CONFIG: a } }).adminPort).toBe(8001)
    expect(loadConfig({ file: b, env: { SOVRA_CONFIG: a } }).adminPort).toBe(8002)
  })

  it('renumbers ports from SOVRA_BASE_PORT and lets SOVRA_PORT_<DC> override one', () => {
    const config = loadConfig({
      env: { SOVRA_BASE_PORT: '12000', SOVRA_PORT_US_WEST_1: '13000' },
    })
    expect(config.dataCenters.map((dc) => dc.port)).toEqual([
      12000, 13000, 12002, 12003, 12004, 12005, 12006,
    ])
  })

  it('gives every data center port 0 when SOVRA_BASE_PORT is 0', () => {
    const config = loadConfig({ env: { SOVRA_BASE_PORT: '0', SOVRA_ADMIN_PORT: '0' } })
    expect(config.dataCenters.every((dc) => dc.port === 0)).toBe(true)
    expect(config.adminPort).toBe(0)
  })

  it('defaults publicHost to bindAddress, except for a wildcard address', () => {
    expect(loadConfig({ env: { SOVRA_BIND_ADDRESS: '10.0.0.5' } }).publicHost).toBe('10.0.0.5')
    expect(loadConfig({ env: { SOVRA_BIND_ADDRESS: '0.0.0.0' } }).publicHost).toBe('127.0.0.1')
    const config = loadConfig({
      env: { SOVRA_BIND_ADDRESS: '0.0.0.0', SOVRA_PUBLIC_HOST: 's3.example.com' },
    })
    expect(config.publicHost).toBe('s3.example.com')
  })

  it('takes root credentials from the environment', () => {
    const config = loadConfig({
      env: { SOVRA_ROOT_ACCESS_KEY: 'ROOTKEY', SOVRA_ROOT_SECRET_KEY: 'rootsecret123' },
    })
    expect(config.rootCredentials).toEqual({
      accessKeyId: 'ROOTKEY',
      secretAccessKey: 'rootsecret123',
    })
  })

  it('keeps the ledger on by default and turns it off only with SOVRA_LEDGER_ENABLED=false', () => {
    expect(loadConfig({ env: {} }).ledger.enabled).toBe(true)
    expect(loadConfig({ env: { SOVRA_LEDGER_ENABLED: 'false' } }).ledger.enabled).toBe(false)
    expect(loadConfig({ env: { SOVRA_LEDGER_ENABLED: 'TRUE' } }).ledger.enabled).toBe(true)
  })

  it('runs the lifecycle worker hourly on real days unless the file or environment says otherwise', () => {
    expect(loadConfig({ env: {} }).lifecycle).toEqual({
      enabled: true,
      intervalMs: 3_600_000,
      dayMs: 86_400_000,
      batchSize: 500,
    })
    const fast = loadConfig({
      env: {
        SOVRA_LIFECYCLE_DAY_MS: '200',
        SOVRA_LIFECYCLE_INTERVAL_MS: '50',
        SOVRA_LIFECYCLE_ENABLED: 'false',
      },
    }).lifecycle
    expect(fast).toEqual({ enabled: false, intervalMs: 50, dayMs: 200, batchSize: 500 })
    expect(failure(() => loadConfig({ env: { SOVRA_LIFECYCLE_DAY_MS: '1' } })).message).toContain(
      'lifecycle.dayMs',
    )
  })

  it('takes the operator token from the environment, and accepts the CLI-only SOVRA_ADMIN_URL', () => {
    const token = 'sovra_op_from-the-environment-0123456789'
    const config = loadConfig({
      env: { SOVRA_OPERATOR_TOKEN: token, SOVRA_ADMIN_URL: 'http://10.0.0.1:9000' },
    })
    expect(config.operatorToken).toBe(token)
    expect(loadConfig({ env: {} }).operatorToken).toBeUndefined()
  })

  it('treats empty environment values as unset', () => {
    expect(loadConfig({ env: { SOVRA_DATA_DIR: '', SOVRA_ADMIN_PORT: '' } }).adminPort).toBe(9000)
  })

  it('ignores variables that do not start with SOVRA_ and the test harness SOVRA_TEST_*', () => {
    expect(() => loadConfig({ env: { PATH: '/bin', SOVRA_TEST_DIALECTS: 'sqlite' } })).not.toThrow()
  })
})

describe('loadConfig() rejects', () => {
  it('an unknown key, naming its path and the file', () => {
    const file = writeConfig({ s3: { foo: 1 } })
    const err = failure(() => loadConfig({ file, env: {} }))
    expect(err.code).toBe('UnknownConfigKey')
    expect(err.message).toBe(`Unknown configuration key "s3.foo" in "${file}"`)
  })

  it('an unknown key inside a data center entry', () => {
    const file = writeConfig({ dataCenters: [{ ...oneDc[0], region: 'x' }] })
    expect(failure(() => loadConfig({ file, env: {} })).message).toBe(
      `Unknown configuration key "dataCenters[0].region" in "${file}"`,
    )
  })

  it('a data center storage path that is not absolute and normalized; accepts one that is', () => {
    for (const storagePath of ['relative/dir', '/srv/a/../b', '/srv/zurich/', '/']) {
      const file = writeConfig({ dataCenters: [{ ...oneDc[0], storagePath }] })
      expect(failure(() => loadConfig({ file, env: {} })).message, storagePath).toContain(
        'dataCenters[0].storagePath',
      )
    }
    const file = writeConfig({ dataCenters: [{ ...oneDc[0], storagePath: '/srv/zurich' }] })
    expect(loadConfig({ file, env: {} }).dataCenters[0]?.storagePath).toBe('/srv/zurich')
  })

  it('an unknown top-level key', () => {
    const file = writeConfig({ datadir: '/x' })
    expect(failure(() => loadConfig({ file, env: {} })).message).toContain('"datadir"')
  })

  it('an unknown SOVRA_ variable, suggesting the right name', () => {
    const err = failure(() => loadConfig({ env: { SOVRA_DATADIR: '/x' } }))
    expect(err.code).toBe('UnknownEnvironmentVariable')
    expect(err.message).toBe(
      'Unknown environment variable "SOVRA_DATADIR": did you mean "SOVRA_DATA_DIR"?',
    )
  })

  it('a port variable for a data center that is not in the catalog', () => {
    const err = failure(() => loadConfig({ env: { SOVRA_PORT_US_WEST_9: '1' } }))
    expect(err.message).toBe(
      'Unknown environment variable "SOVRA_PORT_US_WEST_9": no data center "us-west-9" in the catalog',
    )
  })

  it('a malformed port or log level in the environment', () => {
    expect(failure(() => loadConfig({ env: { SOVRA_ADMIN_PORT: 'abc' } })).message).toBe(
      'Invalid environment variable "SOVRA_ADMIN_PORT": expected a port between 0 and 65535, got "abc"',
    )
    expect(failure(() => loadConfig({ env: { SOVRA_ADMIN_PORT: '70000' } })).code).toBe(
      'InvalidEnvironmentVariable',
    )
    expect(failure(() => loadConfig({ env: { SOVRA_LOG_LEVEL: 'loud' } })).code).toBe(
      'InvalidEnvironmentVariable',
    )
    expect(failure(() => loadConfig({ env: { SOVRA_LEDGER_ENABLED: 'no' } })).message).toBe(
      'Invalid environment variable "SOVRA_LEDGER_ENABLED": expected "true" or "false", got "no"',
    )
  })

  it('duplicate data center ports', () => {
    const file = writeConfig({
      dataCenters: [oneDc[0], { ...oneDc[0], id: 'eu-test-2' }],
    })
    const err = failure(() => loadConfig({ file, env: {} }))
    expect(err.code).toBe('InvalidConfigValue')
    expect(err.message).toContain('"dataCenters[1].port"')
    expect(err.message).toContain('already used by "eu-test-1"')
  })

  it('a data center port equal to the admin port', () => {
    const err = failure(() => loadConfig({ env: { SOVRA_PORT_US_WEST_1: '9000' } }))
    expect(err.message).toContain('already used by "adminPort"')
  })

  it('duplicate ports, but not duplicate zero ports', () => {
    expect(() => loadConfig({ env: { SOVRA_PORT_US_WEST_1: '9001' } })).toThrow(/already used/)
    const file = writeConfig({
      dataCenters: [
        { ...oneDc[0], port: 0 },
        { ...oneDc[0], id: 'eu-test-2', port: 0 },
      ],
    })
    expect(loadConfig({ file, env: {} }).dataCenters).toHaveLength(2)
  })

  it('duplicate data center ids', () => {
    const file = writeConfig({ dataCenters: [oneDc[0], { ...oneDc[0], port: 7002 }] })
    expect(failure(() => loadConfig({ file, env: {} })).message).toContain(
      'duplicate data center id "eu-test-1"',
    )
  })

  it('invalid data center ids, jurisdictions and statuses', () => {
    for (const bad of [
      { id: 'US-West-1' },
      { id: 'uswest' },
      { jurisdiction: 'usa' },
      { status: 'open' },
      { port: 70000 },
    ]) {
      const file = writeConfig({ dataCenters: [{ ...oneDc[0], ...bad }] })
      expect(failure(() => loadConfig({ file, env: {} })).code).toBe('InvalidConfigValue')
    }
    const file = writeConfig({ dataCenters: [{ ...oneDc[0], status: 'open' }] })
    expect(failure(() => loadConfig({ file, env: {} })).message).toMatch(
      /^Invalid configuration value "dataCenters\[0\]\.status" in ".*": invalid option: expected one of "planned"/,
    )
  })

  it('a jurisdiction that is not an assigned ISO 3166-1 code, naming the key', () => {
    const file = writeConfig({ dataCenters: [{ ...oneDc[0], jurisdiction: 'EU' }] })
    expect(failure(() => loadConfig({ file, env: {} })).message).toMatch(
      /^Invalid configuration value "dataCenters\[0\]\.jurisdiction" in ".*": expected an assigned ISO 3166-1 alpha-2 code$/,
    )
  })

  it('an operator token too short to be a secret, without echoing it', () => {
    const err = failure(() => loadConfig({ env: { SOVRA_OPERATOR_TOKEN: 'hunter2' } }))
    expect(err.message).toContain('"operatorToken"')
    expect(err.message).toContain('at least 32 characters')
    expect(err.message).not.toContain('hunter2')
  })

  it('an empty catalog', () => {
    const file = writeConfig({ dataCenters: [] })
    expect(failure(() => loadConfig({ file, env: {} })).message).toContain('"dataCenters"')
  })

  it('a witness quorum the witnesses listed cannot meet, a bad witness URL or key', () => {
    const witness = {
      url: 'http://127.0.0.1:9100',
      verifierKey: 'w.test+0a1b2c3d+BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    }
    const ok = loadConfig({
      file: writeConfig({ ledger: { witnesses: [witness], witnessQuorum: 1 } }),
      env: {},
    })
    expect(ok.ledger.witnesses).toEqual([witness])
    expect(loadConfig({ env: {} }).ledger).toMatchObject({ witnesses: [], witnessQuorum: 0 })
    const cases: Array<[unknown, string]> = [
      [{ witnesses: [witness], witnessQuorum: 2 }, 'between 1 and 1 (the witnesses listed), got 2'],
      [{ witnesses: [witness] }, 'between 1 and 1 (the witnesses listed), got 0'],
      [{ witnessQuorum: 1 }, 'expected 0 without ledger.witnesses, got 1'],
      [{ witnesses: [{ ...witness, url: 'ftp://x' }], witnessQuorum: 1 }, 'http(s) URL'],
      [{ witnesses: [{ ...witness, verifierKey: 'nope' }], witnessQuorum: 1 }, 'verifier key'],
    ]
    for (const [ledger, message] of cases) {
      const err = failure(() => loadConfig({ file: writeConfig({ ledger }), env: {} }))
      expect(err.message).toContain(message)
      expect(err.message).toContain('ledger.')
    }
  })

  it('half of the root credentials', () => {
    const err = failure(() => loadConfig({ env: { SOVRA_ROOT_ACCESS_KEY: 'ROOTKEY' } }))
    expect(err.message).toContain('"rootCredentials"')
  })

  it('a missing file and invalid JSON', () => {
    expect(failure(() => loadConfig({ file: '/nonexistent/sovra.json', env: {} })).code).toBe(
      'ConfigFileNotFound',
    )
    expect(failure(() => loadConfig({ file: writeConfig('{ nope'), env: {} })).code).toBe(
      'InvalidConfigFile',
    )
    expect(failure(() => loadConfig({ file: writeConfig('[]'), env: {} })).code).toBe(
      'InvalidConfigFile',
    )
  })
})
