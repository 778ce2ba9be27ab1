import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { z } from 'zod'
import { ConfigErrors } from './config-error.js'
import { deepFreeze } from './deep-freeze.js'
import { DEFAULT_CONFIG } from './default-topology.js'
import {
  type ConfigFile,
  configFileSchema,
  type DataCenterConfig,
  LOG_LEVELS,
  type LogLevel,
  type SovraConfig,
  sovraConfigSchema,
} from './schema.js'

/** Where `loadConfig` reads from; the caller passes the environment (never read at import time). */
export interface LoadConfigOptions {
  /** JSON configuration file; overrides `SOVRA_CONFIG`. */
  readonly file?: string | undefined
  /** Environment variables, usually `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Environment variables that override a single configuration key. */
export const CONFIG_ENV_VARS = [
  'SOVRA_CONFIG',
  'SOVRA_DATA_DIR',
  'SOVRA_BIND_ADDRESS',
  'SOVRA_PUBLIC_HOST',
  'SOVRA_ADMIN_PORT',
  'SOVRA_LOG_LEVEL',
  'SOVRA_BASE_PORT',
  'SOVRA_ROOT_ACCESS_KEY',
  'SOVRA_ROOT_SECRET_KEY',
  'SOVRA_LEDGER_READS',
  'SOVRA_LEDGER_ENABLED',
  'SOVRA_KMS_CACHE_TTL_MS',
  'SOVRA_OPERATOR_TOKEN',
  'SOVRA_LIFECYCLE_ENABLED',
  'SOVRA_LIFECYCLE_INTERVAL_MS',
  'SOVRA_LIFECYCLE_DAY_MS',
] as const

/** Variables read by the CLI only (not configuration keys), accepted here so they are not typos. */
export const CLIENT_ENV_VARS = ['SOVRA_ADMIN_URL', 'SOVRA_KMS_KEY_TOKEN'] as const

/** Prefix of the per-data-center port variables, for example `SOVRA_PORT_US_WEST_1`. */
export const PORT_ENV_PREFIX = 'SOVRA_PORT_'

/** `SOVRA_*` variables that belong to the test harness, not to the server, and are ignored here. */
const IGNORED_ENV_PREFIXES = ['SOVRA_TEST_'] as const

/** Addresses that mean "every interface" and so cannot appear in an endpoint URL. */
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]'])

/** The name of the environment variable that sets one data center's port. */
export function portEnvVar(dcId: string): string {
  return `${PORT_ENV_PREFIX}${dcId.toUpperCase().replaceAll('-', '_')}`
}

/**
 * Loads the configuration: embedded defaults, then the JSON file (`file` or `SOVRA_CONFIG`), then
 * environment overrides. Validates everything, rejects unknown keys and unknown `SOVRA_*`
 * variables, and returns a deeply frozen tree.
 */
export function loadConfig(options: LoadConfigOptions): SovraConfig {
  const env = readEnv(options.env)
  const file = options.file ?? env.get('SOVRA_CONFIG')
  const fromFile: ConfigFile = file === undefined ? {} : readConfigFile(resolve(file))

  const dataCenters: DataCenterConfig[] = (fromFile.dataCenters ?? DEFAULT_CONFIG.dataCenters).map(
    (dc) => ({ ...dc }),
  )
  const basePort = envPort(env, 'SOVRA_BASE_PORT')
  if (basePort !== undefined) {
    dataCenters.forEach((dc, index) => {
      const port = basePort === 0 ? 0 : basePort + index
      if (port > 65535) {
        throw ConfigErrors.invalidEnv(
          'SOVRA_BASE_PORT',
          String(basePort),
          `data center "${dc.id}" would get port "${port}", above 65535`,
        )
      }
      dataCenters[index] = { ...dc, port }
    })
  }
  const byPortVar = new Map(dataCenters.map((dc, index) => [portEnvVar(dc.id), index]))
  for (const name of env.keys()) {
    if (!name.startsWith(PORT_ENV_PREFIX)) continue
    const index = byPortVar.get(name)
    const dc = index === undefined ? undefined : dataCenters[index]
    if (index === undefined || dc === undefined) {
      const id = name.slice(PORT_ENV_PREFIX.length).toLowerCase().replaceAll('_', '-')
      throw ConfigErrors.unknownEnv(name, `: no data center "${id}" in the catalog`)
    }
    dataCenters[index] = { ...dc, port: envPort(env, name) ?? dc.port }
  }

  const bindAddress =
    env.get('SOVRA_BIND_ADDRESS') ?? fromFile.bindAddress ?? DEFAULT_CONFIG.bindAddress
  const publicHost =
    env.get('SOVRA_PUBLIC_HOST') ??
    fromFile.publicHost ??
    (WILDCARD_ADDRESSES.has(bindAddress) ? '127.0.0.1' : bindAddress)
  const accessKeyId = env.get('SOVRA_ROOT_ACCESS_KEY') ?? fromFile.rootCredentials?.accessKeyId
  const secretAccessKey =
    env.get('SOVRA_ROOT_SECRET_KEY') ?? fromFile.rootCredentials?.secretAccessKey
  const operatorToken = env.get('SOVRA_OPERATOR_TOKEN') ?? fromFile.operatorToken

  const merged = {
    dataDir: env.get('SOVRA_DATA_DIR') ?? fromFile.dataDir ?? DEFAULT_CONFIG.dataDir,
    bindAddress,
    publicHost,
    adminPort: envPort(env, 'SOVRA_ADMIN_PORT') ?? fromFile.adminPort ?? DEFAULT_CONFIG.adminPort,
    logLevel: envLogLevel(env) ?? fromFile.logLevel ?? DEFAULT_CONFIG.logLevel,
    dataCenters,
    s3: { ...DEFAULT_CONFIG.s3, ...fromFile.s3 },
    ledger: {
      ...DEFAULT_CONFIG.ledger,
      ...fromFile.ledger,
      ...(env.get('SOVRA_LEDGER_READS') === undefined
        ? {}
        : { reads: env.get('SOVRA_LEDGER_READS') }),
      ...envBoolean(env, 'SOVRA_LEDGER_ENABLED', 'enabled'),
    },
    kms: {
      ...DEFAULT_CONFIG.kms,
      ...fromFile.kms,
      ...envInteger(env, 'SOVRA_KMS_CACHE_TTL_MS', 'cacheTtlMs'),
    },
    keyRotation: { ...DEFAULT_CONFIG.keyRotation, ...fromFile.keyRotation },
    lifecycle: {
      ...DEFAULT_CONFIG.lifecycle,
      ...fromFile.lifecycle,
      ...envBoolean(env, 'SOVRA_LIFECYCLE_ENABLED', 'enabled'),
      ...envInteger(env, 'SOVRA_LIFECYCLE_INTERVAL_MS', 'intervalMs'),
      ...envInteger(env, 'SOVRA_LIFECYCLE_DAY_MS', 'dayMs'),
    },
    rootCredentials: {
      ...(accessKeyId === undefined ? {} : { accessKeyId }),
      ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
    },
    ...(operatorToken === undefined ? {} : { operatorToken }),
  }
  const result = sovraConfigSchema.safeParse(merged)
  if (!result.success) {
    throw issueToError(
      result.error.issues,
      file === undefined ? 'the configuration' : resolve(file),
    )
  }
  const config: SovraConfig = result.data
  return deepFreeze(config)
}

/** Reads and validates a configuration file (before merging). */
function readConfigFile(file: string): ConfigFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw ConfigErrors.fileNotFound(file, err)
    throw ConfigErrors.invalidFile(file, (err as Error).message, err)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw ConfigErrors.invalidFile(file, `invalid JSON: ${(err as Error).message}`, err)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw ConfigErrors.invalidFile(file, 'expected a JSON object')
  }
  const result = configFileSchema.safeParse(json)
  if (!result.success) throw issueToError(result.error.issues, file)
  return result.data
}

/** Turns the first zod issue into a ConfigError naming the key path and its source. */
function issueToError(issues: readonly z.core.$ZodIssue[], source: string): Error {
  const issue = issues[0]
  if (issue === undefined)
    return ConfigErrors.invalidValue('(root)', source, 'invalid configuration')
  if (issue.code === 'unrecognized_keys') {
    return ConfigErrors.unknownKey(formatPath([...issue.path, issue.keys[0] ?? '?']), source)
  }
  // zod's own messages start upper-case; after our colon the house style continues lower-case.
  const reason = issue.message.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase())
  return ConfigErrors.invalidValue(formatPath(issue.path), source, reason)
}

/** `['dataCenters', 0, 'port']` → `dataCenters[0].port`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out === '' ? '(root)' : out
}

/** The `SOVRA_*` variables that are set and non-empty; unknown names are rejected here. */
function readEnv(raw: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const known = new Set<string>([...CONFIG_ENV_VARS, ...CLIENT_ENV_VARS])
  const env = new Map<string, string>()
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith('SOVRA_') || IGNORED_ENV_PREFIXES.some((p) => name.startsWith(p))) continue
    if (!known.has(name) && !name.startsWith(PORT_ENV_PREFIX)) {
      const guess = closest(name, CONFIG_ENV_VARS)
      throw ConfigErrors.unknownEnv(name, guess === undefined ? '' : `: did you mean "${guess}"?`)
    }
    // An empty value means "not set", as docker-compose and systemd often pass them.
    if (value !== undefined && value !== '') env.set(name, value)
  }
  return env
}

function envPort(env: Map<string, string>, name: string): number | undefined {
  const value = env.get(name)
  if (value === undefined) return undefined
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN
  if (!(port >= 0 && port <= 65535)) {
    throw ConfigErrors.invalidEnv(name, value, 'expected a port between 0 and 65535')
  }
  return port
}

/** `{ [key]: true|false }` from a `true`/`false` variable, `{}` when it is unset. */
function envBoolean<K extends string>(
  env: Map<string, string>,
  name: string,
  key: K,
): Partial<Record<K, boolean>> {
  const value = env.get(name)?.trim().toLowerCase()
  if (value === undefined) return {}
  if (value !== 'true' && value !== 'false') {
    throw ConfigErrors.invalidEnv(name, value, 'expected "true" or "false"')
  }
  return { [key]: value === 'true' } as Partial<Record<K, boolean>>
}

/** `{ [key]: n }` from a non-negative integer variable, `{}` when it is unset. */
function envInteger<K extends string>(
  env: Map<string, string>,
  name: string,
  key: K,
): Partial<Record<K, number>> {
  const value = env.get(name)?.trim()
  if (value === undefined) return {}
  if (!/^\d{1,9}$/.test(value)) {
    throw ConfigErrors.invalidEnv(name, value, 'expected a non-negative integer')
  }
  return { [key]: Number(value) } as Partial<Record<K, number>>
}

function envLogLevel(env: Map<string, string>): LogLevel | undefined {
  const value = env.get('SOVRA_LOG_LEVEL')
  if (value === undefined) return undefined
  const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase())
  if (level === undefined) {
    const allowed = LOG_LEVELS.map((l) => `"${l}"`).join(', ')
    throw ConfigErrors.invalidEnv('SOVRA_LOG_LEVEL', value, `expected one of ${allowed}`)
  }
  return level
}

/** The candidate within edit distance 3 of `name`, for "did you mean" hints. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 4
  for (const candidate of candidates) {
    const d = editDistance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost)
    }
    prev = row
  }
  return prev[b.length] ?? 0
}
