import { isAbsolute, join, resolve } from 'node:path'
import { z } from 'zod'
import type { KeydConfig } from './keyd-server.js'
import type { LedgerReceiptPolicy } from './ledger-receipt-authorizer.js'

/** Where keyd listens unless the file says otherwise: loopback only. */
export const KEYD_DEFAULT_HOST = '127.0.0.1'
/** Vault's port, so clients configured for a local Vault find keyd. */
export const KEYD_DEFAULT_PORT = 8200

/** A verifier key `name+keyid+base64` whose name is a ledger origin `…/ledger/<dc>`. */
const LEDGER_KEY = /^[^\s+]+\/ledger\/([a-z0-9-]+)\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/
const TOKEN = z.string().min(16, 'tokens must be at least 16 characters')

/**
 * `sovra keyd serve --config FILE`: one JSON object, unknown keys refused.
 *
 * ```json
 * {
 *   "listen": { "host": "127.0.0.1", "port": 8200 },
 *   "stateDir": "/var/lib/sovra-keyd",
 *   "mount": "transit",
 *   "tokens": { "admin": "…", "dataCenters": { "us-west-1": "…" } },
 *   "dataCenters": [{ "ledgerKey": "sovra.example/ledger/us-west-1+1a2b3c4d+AQ…" }],
 *   "logBeforeDecrypt": { "enabled": true, "maxCheckpointAgeSeconds": 30, "tenantSecret": "base64…" }
 * }
 * ```
 */
export const keydFileSchema = z.strictObject({
  /** Address and port to listen on; default 127.0.0.1:8200 (port 0: any free port). */
  listen: z
    .strictObject({
      host: z.string().min(1).default(KEYD_DEFAULT_HOST),
      port: z.number().int().min(0).max(65_535).default(KEYD_DEFAULT_PORT),
    })
    .default({ host: KEYD_DEFAULT_HOST, port: KEYD_DEFAULT_PORT }),
  /** Folder of `keys.json` (the key material, 0600) and `audit.jsonl`; relative to the file. */
  stateDir: z.string().min(1),
  /** Transit mount path served under `/v1/`; default `transit`. */
  mount: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('transit'),
  tokens: z.strictObject({
    /** Manages keys (create, rotate, config, list, delete); cannot encrypt or decrypt. */
    admin: TOKEN,
    /** Data center id → the token that data center wraps and unwraps with. */
    dataCenters: z.record(z.string().regex(/^[a-z0-9-]+$/), TOKEN),
  }),
  /**
   * The allow-list: data centers that may wrap and unwrap, each by its ledger verifier key (the
   * key name is the log origin, ending in `/ledger/<dc>`: that is the data center's id).
   */
  dataCenters: z
    .array(
      z.strictObject({
        ledgerKey: z
          .string()
          .regex(LEDGER_KEY, 'must be a verifier key name+keyid+base64 named "…/ledger/<dc>"'),
      }),
    )
    .min(1),
  /** Require the ledger receipt of the access event before every unwrap. */
  logBeforeDecrypt: z
    .strictObject({
      enabled: z.boolean(),
      /** How old the access event (and a cosigned checkpoint) may be. */
      maxCheckpointAgeSeconds: z.number().positive().max(86_400).default(60),
      /** The customer's ledger secret (base64, ≥ 16 bytes), to check the event's commitments. */
      tenantSecret: z.base64().optional(),
      /** Witness cosignature keys whose cosignature times must be fresh too. */
      witnessKeys: z.array(z.string().min(1)).default([]),
    })
    .refine((v) => !v.enabled || v.tenantSecret !== undefined, {
      message: 'tenantSecret is required when log-before-decrypt is enabled',
      path: ['tenantSecret'],
    })
    .refine(
      (v) => v.tenantSecret === undefined || Buffer.from(v.tenantSecret, 'base64').length >= 16,
      { message: 'tenantSecret must decode to at least 16 bytes', path: ['tenantSecret'] },
    )
    .default({ enabled: false, maxCheckpointAgeSeconds: 60, witnessKeys: [] }),
})

/** The validated file. */
export type KeydFile = z.infer<typeof keydFileSchema>

/** keyd's settings derived from the file: server config, where to listen, and the receipt policy. */
export interface KeydSettings {
  readonly keyd: KeydConfig
  readonly listen: { readonly host: string; readonly port: number }
  /** Data center id → ledger verifier key, from the allow-list. */
  readonly ledgerKeys: Readonly<Record<string, string>>
  /** Present when log-before-decrypt is enabled. */
  readonly logBeforeDecrypt:
    | (LedgerReceiptPolicy & { readonly witnessKeys: readonly string[] })
    | undefined
}

/**
 * Validates a parsed keyd file. `file` names the source in error messages and anchors a relative
 * `stateDir`. Throws RangeError naming the first bad key.
 */
export function parseKeydFile(json: unknown, file: string): KeydSettings {
  const result = keydFileSchema.safeParse(json)
  if (!result.success) {
    const issue = result.error.issues[0]
    const path =
      issue === undefined
        ? '(root)'
        : issue.code === 'unrecognized_keys'
          ? [...issue.path, issue.keys[0] ?? '?'].join('.')
          : issue.path.join('.') || '(root)'
    const reason =
      issue?.code === 'unrecognized_keys' ? 'unknown key' : (issue?.message ?? 'invalid')
    throw new RangeError(`Invalid keyd configuration "${file}" at "${path}": ${reason}`)
  }
  const data = result.data
  const ledgerKeys: Record<string, string> = {}
  for (const { ledgerKey } of data.dataCenters) {
    const dc = LEDGER_KEY.exec(ledgerKey)?.[1] as string
    if (ledgerKeys[dc] !== undefined) {
      throw new RangeError(
        `Invalid keyd configuration "${file}": data center "${dc}" is listed twice`,
      )
    }
    ledgerKeys[dc] = ledgerKey
  }
  const stateDir = isAbsolute(data.stateDir) ? data.stateDir : resolve(file, '..', data.stateDir)
  const lbd = data.logBeforeDecrypt
  return {
    keyd: {
      mount: data.mount,
      stateFile: join(stateDir, 'keys.json'),
      auditLogPath: join(stateDir, 'audit.jsonl'),
      tokens: [
        { token: data.tokens.admin, role: 'admin' },
        ...Object.entries(data.tokens.dataCenters).map(([dc, token]) => ({
          token,
          role: 'dc' as const,
          dc,
        })),
      ],
      allowedDcs: Object.keys(ledgerKeys),
    },
    listen: data.listen,
    ledgerKeys,
    logBeforeDecrypt:
      lbd.enabled && lbd.tenantSecret !== undefined
        ? {
            ledgerKeys,
            tenantSecret: new Uint8Array(Buffer.from(lbd.tenantSecret, 'base64')),
            maxCheckpointAgeSeconds: lbd.maxCheckpointAgeSeconds,
            witnessKeys: lbd.witnessKeys,
          }
        : undefined,
  }
}
