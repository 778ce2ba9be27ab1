import { z } from 'zod'
import {
  DATA_CENTER_ID_PATTERN,
  isKnownJurisdiction,
  isStoragePath,
  STORAGE_PATH_RULE,
} from '../core/index.js'

export { DATA_CENTER_ID_PATTERN }

/** Log levels pino accepts, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The lifecycle of a data center. */
export const DATA_CENTER_STATUSES = ['planned', 'active', 'draining', 'retired'] as const

/** A data center's lifecycle state. */
export type DataCenterStatus = (typeof DATA_CENTER_STATUSES)[number]

/** One data center of the catalog. */
export interface DataCenterConfig {
  /** Stable id used in endpoints, bucket placement and ledgers, for example `us-west-1`. */
  readonly id: string
  /** Display name, for example `US West (Silicon Valley)`. */
  readonly name: string
  /** City the data center is in. */
  readonly city: string
  /** ISO 3166-1 alpha-2 code of the jurisdiction whose law governs the data. */
  readonly jurisdiction: string
  /** Lifecycle state; only `active` data centers take new buckets. */
  readonly status: DataCenterStatus
  /** TCP port of this data center's S3 endpoint; `0` picks any free port (tests). */
  readonly port: number
  /**
   * Absolute folder of its files (metadata, blobs, keys, ledger), for example a volume of its
   * own; default `<dataDir>/dcs/<id>`. Taken when the data center first enters the directory.
   */
  readonly storagePath?: string
}

/** S3 protocol limits. */
export interface S3Config {
  /** How far a request's signing time may differ from the server clock. */
  readonly maxClockSkewSeconds: number
  /** Objects up to this size are stored inline in the metadata store. */
  readonly inlineMaxBytes: number
  /** Largest total size of request headers accepted. */
  readonly maxHeaderBytes: number
}

/** How a bucket key rotation re-wraps its data keys in the background (per data center). */
export interface KeyRotationConfig {
  /** Wrapped keys read from the metadata store per batch; progress is saved after each. */
  readonly batchSize: number
  /** Re-wraps in flight at once (each a key service round trip for vault-transit). */
  readonly concurrency: number
  /** Pause after each batch, to spare the key service and the disk (0 = none). */
  readonly pauseMs: number
}

/** The lifecycle worker of every data center (bucket lifecycle rules). */
export interface LifecycleConfig {
  /** `false`: no worker runs; configurations are still stored and returned. */
  readonly enabled: boolean
  /** Time between the end of one pass over the buckets with rules and the start of the next. */
  readonly intervalMs: number
  /**
   * The length of a lifecycle "day" (86,400,000 in production). Tests shrink it, so "expire
   * after 1 day" happens within a second; `Date` rules are not scaled.
   */
  readonly dayMs: number
  /** Objects (or multipart uploads) read from the metadata store per page. */
  readonly batchSize: number
}

/** Credentials for the root (admin) tenant; both or neither. */
/** The transparency log of every data center. */
export interface LedgerConfig {
  /**
   * `false` records nothing: only for measuring what the log costs (`npm run bench:ledger`).
   * Sovra's proofs do not hold without it, and the server warns at start.
   */
  readonly enabled: boolean
  /** `async` (default): reads are logged in the background; `sync`: before the response. */
  readonly reads: (typeof LEDGER_READ_MODES)[number]
  /** Checkpoint origins are `<originPrefix>/<dc>`; default `<publicHost>/ledger`. */
  readonly originPrefix?: string
  /** How long an append waits for others to share its fsync when the log is idle. */
  readonly batchMaxDelayMs: number
  /** Appends get `SlowDown` once this many entries await integration. */
  readonly maxPending: number
  /** Witnesses (c2sp.org/tlog-witness) every data center's log submits its checkpoints to. */
  readonly witnesses: readonly WitnessConfig[]
  /** Cosignatures a checkpoint needs before it is served; 0 (default) = no witnessing. */
  readonly witnessQuorum: number
}

/** One witness of the transparency logs. */
export interface WitnessConfig {
  /** Submission prefix: checkpoints are POSTed to `<url>/add-checkpoint`. */
  readonly url: string
  /** The witness's cosignature verifier key (`name+keyid+base64(0x04 || key)`). */
  readonly verifierKey: string
}

/** Customer KMS keys (vault-transit buckets). */
export interface KmsConfig {
  /**
   * How long an unwrapped data key of a customer key is reused without asking its key service
   * again: the bound on how long a revoked key still opens objects (and, with log-before-decrypt,
   * how long reads of one object skip the key service). `0` asks every time.
   */
  readonly cacheTtlMs: number
  /** Most unwrapped data keys cached per customer key. */
  readonly cacheMaxEntries: number
}

export interface RootCredentialsConfig {
  /** Access key id imported for the admin tenant; generated on first start when absent. */
  readonly accessKeyId?: string
  /** Secret for `accessKeyId`. */
  readonly secretAccessKey?: string
}

/** The whole validated, frozen configuration tree. */
export interface SovraConfig {
  /** Folder holding the directory, every cell's stores and the key files. */
  readonly dataDir: string
  /** Address every listener binds to. */
  readonly bindAddress: string
  /** Host name used in endpoint URLs handed to clients (redirects, `serve` output). */
  readonly publicHost: string
  /** TCP port of the admin API; `0` picks any free port. */
  readonly adminPort: number
  /** Minimum level written to the log. */
  readonly logLevel: LogLevel
  /** The data center catalog, in display order. */
  readonly dataCenters: readonly DataCenterConfig[]
  /** S3 protocol limits. */
  readonly s3: S3Config
  /** The transparency log of every data center. */
  readonly ledger: LedgerConfig
  /** Customer KMS keys. */
  readonly kms: KmsConfig
  /** Background re-wrap of data keys after a bucket key rotation. */
  readonly keyRotation: KeyRotationConfig
  /** The background worker that applies bucket lifecycle rules. */
  readonly lifecycle: LifecycleConfig
  /** Root tenant credentials. */
  readonly rootCredentials: RootCredentialsConfig
  /**
   * The admin API's operator token. When absent, one is created on first start, printed once
   * and kept in `<dataDir>/keys/operator.token`; when set, it replaces that one for this process.
   */
  readonly operatorToken?: string
}

const port = z
  .int({ error: 'expected an integer port' })
  .min(0, { error: 'expected a port between 0 and 65535' })
  .max(65535, { error: 'expected a port between 0 and 65535' })

const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty string' })

/** Schema of one data center entry (file form: `status` defaults to `active`). */
export const dataCenterSchema = z.strictObject({
  id: z
    .string()
    .max(63, { error: 'expected at most 63 characters' })
    .regex(DATA_CENTER_ID_PATTERN, {
      error: 'expected a lower-case id such as "us-west-1" or "cn-hangzhou"',
    }),
  name: nonEmpty.max(100),
  city: nonEmpty.max(100),
  jurisdiction: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: 'expected an ISO 3166-1 alpha-2 code such as "US"' })
    .refine(isKnownJurisdiction, { error: 'expected an assigned ISO 3166-1 alpha-2 code' }),
  status: z.enum(DATA_CENTER_STATUSES).default('active'),
  port,
  storagePath: z
    .string()
    .refine(isStoragePath, { error: STORAGE_PATH_RULE })
    .exactOptional()
    .meta({ description: 'Folder of its files (default: <dataDir>/dcs/<id>); fixed once added' }),
})

const s3Schema = z.strictObject({
  maxClockSkewSeconds: z.int().min(1).max(604_800),
  inlineMaxBytes: z
    .int()
    .min(0)
    .max(16 * 1024 * 1024),
  maxHeaderBytes: z
    .int()
    .min(1024)
    .max(1024 * 1024),
})

/** How reads are logged: batched in the background (at most about a second of exposure) or before the response. */
export const LEDGER_READ_MODES = ['async', 'sync'] as const

const witnessSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  verifierKey: z.string().regex(/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+={0,2}$/, {
    error: 'expected a verifier key "<name>+<key id>+<base64 key>"',
  }),
})

const ledgerSchema = z.strictObject({
  enabled: z.boolean(),
  reads: z.enum(LEDGER_READ_MODES),
  originPrefix: nonEmpty.exactOptional(),
  batchMaxDelayMs: z.int().min(0).max(1000),
  maxPending: z.int().min(1).max(10_000_000),
  witnesses: z.array(witnessSchema).max(32),
  witnessQuorum: z.int().min(0).max(32),
})

const kmsSchema = z.strictObject({
  cacheTtlMs: z.int().min(0).max(3_600_000),
  cacheMaxEntries: z.int().min(0).max(1_000_000),
})

const keyRotationSchema = z.strictObject({
  batchSize: z.int().min(1).max(10_000),
  concurrency: z.int().min(1).max(64),
  pauseMs: z.int().min(0).max(60_000),
})

const lifecycleSchema = z.strictObject({
  enabled: z.boolean(),
  intervalMs: z.int().min(10).max(86_400_000),
  dayMs: z.int().min(10).max(86_400_000),
  batchSize: z.int().min(1).max(10_000),
})

const rootCredentialsSchema = z.strictObject({
  accessKeyId: nonEmpty.exactOptional(),
  secretAccessKey: nonEmpty.exactOptional(),
})

/** An operator token: long enough that guessing it is hopeless. */
const operatorToken = z
  .string()
  .min(32, { error: 'expected at least 32 characters' })
  .max(256, { error: 'expected at most 256 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'expected printable ASCII without spaces' })

/** Schema of a configuration file: every key optional, unknown keys rejected. */
export const configFileSchema = z.strictObject({
  dataDir: nonEmpty.exactOptional(),
  bindAddress: nonEmpty.exactOptional(),
  publicHost: nonEmpty.exactOptional(),
  adminPort: port.exactOptional(),
  logLevel: z.enum(LOG_LEVELS).exactOptional(),
  dataCenters: z.array(dataCenterSchema).exactOptional(),
  s3: s3Schema.partial().exactOptional(),
  ledger: ledgerSchema.partial().exactOptional(),
  kms: kmsSchema.partial().exactOptional(),
  keyRotation: keyRotationSchema.partial().exactOptional(),
  lifecycle: lifecycleSchema.partial().exactOptional(),
  rootCredentials: rootCredentialsSchema.exactOptional(),
  operatorToken: operatorToken.exactOptional(),
  $schema: z.string().exactOptional(),
})

/** What a configuration file may contain. */
export type ConfigFile = z.output<typeof configFileSchema>

/** Schema of the merged configuration, with the cross-field rules. */
export const sovraConfigSchema = z
  .strictObject({
    dataDir: nonEmpty,
    bindAddress: nonEmpty,
    publicHost: nonEmpty,
    adminPort: port,
    logLevel: z.enum(LOG_LEVELS),
    dataCenters: z.array(dataCenterSchema).min(1, { error: 'expected at least one data center' }),
    s3: s3Schema,
    ledger: ledgerSchema,
    kms: kmsSchema,
    keyRotation: keyRotationSchema,
    lifecycle: lifecycleSchema,
    rootCredentials: rootCredentialsSchema,
    operatorToken: operatorToken.exactOptional(),
  })
  .superRefine((config, ctx) => {
    const ids = new Map<string, number>()
    const ports = new Map<number, string>()
    if (config.adminPort !== 0) ports.set(config.adminPort, 'adminPort')
    config.dataCenters.forEach((dc, index) => {
      if (ids.has(dc.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['dataCenters', index, 'id'],
          message: `duplicate data center id "${dc.id}"`,
        })
      }
      ids.set(dc.id, index)
      if (dc.port === 0) return
      const other = ports.get(dc.port)
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['dataCenters', index, 'port'],
          message: `port "${dc.port}" of "${dc.id}" is already used by "${other}"`,
        })
      }
      ports.set(dc.port, dc.id)
    })
    const { witnesses, witnessQuorum } = config.ledger
    if (witnessQuorum > witnesses.length || (witnesses.length > 0 && witnessQuorum === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ledger', 'witnessQuorum'],
        message:
          witnesses.length === 0
            ? `expected 0 without ledger.witnesses, got ${witnessQuorum}`
            : `expected between 1 and ${witnesses.length} (the witnesses listed), got ${witnessQuorum}`,
      })
    }
    const { accessKeyId, secretAccessKey } = config.rootCredentials
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rootCredentials'],
        message: 'expected both "accessKeyId" and "secretAccessKey", or neither',
      })
    }
  })
