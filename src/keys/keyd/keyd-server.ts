import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../../core/index.js'
import { decodeKeyContext, type KeyContext } from '../key-provider.js'
import { AuditLog, type AuditRecord } from './keyd-audit-log.js'
import { type KeydKey, KeydKeyStore, TransitFailure } from './keyd-key-store.js'
import { allowAllUnwraps, type UnwrapAuthorizer } from './unwrap-authorizer.js'

/** A token keyd accepts: the customer's admin (manages keys) or one data center (wraps/unwraps). */
export type KeydToken =
  | { readonly token: string; readonly role: 'admin' }
  | { readonly token: string; readonly role: 'dc'; readonly dc: string }

/** keyd's configuration (the `sovra keyd` command will load it from a file). */
export interface KeydConfig {
  /** Transit mount path served under `/v1/`; default `transit`. */
  readonly mount?: string
  /** Where keys persist (JSON, 0600, replaced atomically). */
  readonly stateFile: string
  /** Append-only audit log (JSON lines, no key material). */
  readonly auditLogPath: string
  readonly tokens: readonly KeydToken[]
  /** Data centers that may wrap and unwrap; a token's data center must also be listed here. */
  readonly allowedDcs: readonly string[]
  /** Largest request body; default 64 KiB (data keys are small). */
  readonly maxBodyBytes?: number
}

/** What keyd needs besides its configuration. */
export interface KeydDeps {
  readonly logger?: Logger
  /** The log-before-decrypt hook; default allows every unwrap that passed token and allow-list checks. */
  readonly authorizer?: UnwrapAuthorizer
  readonly now?: () => Date
}

/** A built keyd: call `listen()` to serve, `close()` to stop. */
export interface Keyd {
  readonly server: Server
  /** Starts listening (default 127.0.0.1, a free port) and returns the base URL. */
  listen(options?: { readonly port?: number; readonly host?: string }): Promise<string>
  close(): Promise<void>
}

type Client = { readonly role: 'admin' } | { readonly role: 'dc'; readonly dc: string }

/** An answer to send: JSON `data` (200), no content (204), or Vault-style `errors`. */
type Answer =
  | { readonly status: 200; readonly data: Record<string, unknown> }
  | { readonly status: 204 }
  | { readonly status: number; readonly error: string }

/** Audit facts gathered while handling one request. */
interface Facts {
  op: string
  key?: string
  keyVersion?: number
  context?: KeyContext
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/**
 * `sovra keyd`'s server core: the HashiCorp Vault Transit subset Sovra uses, so the
 * vault-transit provider works against keyd, Vault or OpenBao unchanged.
 *
 * - `LIST /v1/<mount>/keys` (or `GET …/keys?list=true`) lists key names (Vault answers 404 when
 *   there are none).
 * - `POST /v1/<mount>/keys/<name>` create (`type` aes256-gcm96, `derived`), `GET` read,
 *   `POST …/config` (`deletion_allowed`, `min_decryption_version`, `min_encryption_version`),
 *   `POST …/rotate`, `DELETE` (needs `deletion_allowed`): admin token only.
 * - `POST /v1/<mount>/encrypt/<name>`, `decrypt/<name>`, `rewrap/<name>`,
 *   `datakey/{plaintext,wrapped}/<name>`: data-center tokens only. `rewrap` re-encrypts a
 *   ciphertext under the latest key version inside keyd (the plaintext never leaves, so it needs
 *   no receipt; `min_decryption_version` still applies). `context` must be Sovra's canonical key context naming the token's
 *   own data center, and that data center must be on the allow-list.
 * - Revocation: rotate, then raise `min_decryption_version` (old wrapped keys answer "disallowed
 *   by policy"), or set `deletion_allowed` and DELETE the key (every wrapped key is gone).
 * - Every request, allowed or not, is appended to the audit log before the answer is sent.
 */
export async function createKeyd(config: KeydConfig, deps: KeydDeps = {}): Promise<Keyd> {
  const frozen = Object.freeze({ ...config })
  const seen = new Set<string>()
  for (const t of frozen.tokens) {
    if (typeof t.token !== 'string' || t.token.length === 0 || seen.has(t.token)) {
      throw new RangeError('keyd tokens must be non-empty and distinct')
    }
    if (t.role === 'dc' && (typeof t.dc !== 'string' || t.dc === '')) {
      throw new RangeError('A keyd data-center token must name its data center')
    }
    seen.add(t.token)
  }
  const mount = (config.mount ?? 'transit').replace(/^\/+|\/+$/g, '')
  const maxBody = config.maxBodyBytes ?? 65_536
  const store = await KeydKeyStore.open(config.stateFile)
  const audit = await AuditLog.open(config.auditLogPath, deps.now)
  const authorizer = deps.authorizer ?? allowAllUnwraps
  const logger = deps.logger
  const allowed = new Set(frozen.allowedDcs)
  const tokens = frozen.tokens.map((t) => ({
    digest: digest(t.token),
    client: (t.role === 'admin' ? { role: 'admin' } : { role: 'dc', dc: t.dc }) as Client,
  }))

  function authenticate(req: IncomingMessage): Client | undefined {
    const header = req.headers['x-vault-token']
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const token = typeof header === 'string' ? header : bearer
    if (token === undefined) return undefined
    const d = digest(token)
    // Compare every entry in constant time per entry, so timing does not reveal a match position.
    let found: Client | undefined
    for (const t of tokens) if (timingSafeEqual(t.digest, d)) found = t.client
    return found
  }

  async function handle(
    req: IncomingMessage,
    requestId: string,
    facts: Facts,
    client: Client | undefined,
  ): Promise<Answer> {
    const url = new URL(req.url ?? '/', 'http://keyd')
    const prefix = `/v1/${mount}/`
    if (!url.pathname.startsWith(prefix)) return { status: 404, error: 'unsupported path' }
    let parts: string[]
    try {
      parts = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent)
    } catch {
      return { status: 400, error: 'invalid path encoding' }
    }
    const method = req.method === 'PUT' ? 'POST' : (req.method ?? 'GET')
    if (client === undefined) return { status: 403, error: 'permission denied' }
    const body = method === 'POST' ? await readJson(req, maxBody) : {}
    if (body === undefined) return { status: 400, error: 'failed to parse JSON input' }

    const [area, a, b, c] = parts
    if (area === 'keys' && (a === undefined || a === '') && b === undefined) {
      facts.op = 'list-keys'
      if (client.role !== 'admin') return { status: 403, error: 'permission denied' }
      if (method !== 'LIST' && !(method === 'GET' && url.searchParams.get('list') === 'true')) {
        return { status: 405, error: 'unsupported operation' }
      }
      const names = store.names()
      if (names.length === 0) return { status: 404, error: 'no keys' }
      return { status: 200, data: { keys: names } }
    }
    if (area === 'keys' && a !== undefined && c === undefined) {
      facts.key = a
      if (client.role !== 'admin') return { status: 403, error: 'permission denied' }
      if (!KEY_NAME.test(a)) return { status: 400, error: 'invalid key name' }
      if (b === undefined) {
        if (method === 'POST') return createKey(a, body, facts)
        if (method === 'GET') return readKey(a, facts)
        if (method === 'DELETE') {
          facts.op = 'delete-key'
          await store.delete(a)
          return { status: 204 }
        }
        return { status: 405, error: 'unsupported operation' }
      }
      if (method !== 'POST') return { status: 405, error: 'unsupported operation' }
      if (b === 'rotate') {
        facts.op = 'rotate-key'
        await store.rotate(a)
        return { status: 204 }
      }
      if (b === 'config') return configureKey(a, body, facts)
      return { status: 404, error: 'unsupported path' }
    }
    const op =
      area === 'encrypt' || area === 'decrypt' || area === 'rewrap'
        ? { kind: area, name: a, extra: b }
        : area === 'datakey' && (a === 'plaintext' || a === 'wrapped')
          ? { kind: 'datakey' as const, name: b, extra: c, plaintext: a === 'plaintext' }
          : undefined
    if (op === undefined || op.name === undefined || op.extra !== undefined) {
      return { status: 404, error: 'unsupported path' }
    }
    facts.op = op.kind
    facts.key = op.name
    if (method !== 'POST') return { status: 405, error: 'unsupported operation' }
    if (client.role !== 'dc') return { status: 403, error: 'permission denied' }
    const context = decodeKeyContext(Buffer.from(str(body.context) ?? '', 'base64'))
    if (context === undefined) {
      return { status: 400, error: "'context' must be the base64 of a Sovra key context" }
    }
    facts.context = context
    if (context.dc !== client.dc) {
      return {
        status: 403,
        error: `permission denied: the token is not for data center "${context.dc}"`,
      }
    }
    if (!allowed.has(context.dc)) {
      return { status: 403, error: `permission denied: data center "${context.dc}" is not allowed` }
    }
    const key = store.get(op.name)
    if (key === undefined) return { status: 400, error: 'encryption key not found' }
    const contextBytes = Buffer.from(str(body.context) as string, 'base64')
    const aad =
      str(body.associated_data) === undefined
        ? undefined
        : Buffer.from(str(body.associated_data) as string, 'base64')
    if (op.kind === 'decrypt') {
      const ciphertext = str(body.ciphertext)
      if (ciphertext === undefined) return { status: 400, error: 'missing ciphertext to decrypt' }
      const version = Number(/^vault:v(\d{1,9}):/.exec(ciphertext)?.[1] ?? Number.NaN)
      if (Number.isNaN(version)) return { status: 400, error: 'invalid ciphertext: no prefix' }
      facts.keyVersion = version
      const decision = await authorizer.authorizeUnwrap({
        requestId,
        keyName: op.name,
        keyVersion: version,
        context,
        clientDc: client.dc,
        receipt: str(body.sovra_receipt),
      })
      if (!decision.allow) return { status: 403, error: `permission denied: ${decision.reason}` }
      const { plaintext } = store.decrypt(key, { ciphertext, context: contextBytes, aad })
      return { status: 200, data: { plaintext: plaintext.toString('base64') } }
    }
    const requested = body.key_version === undefined ? undefined : Number(body.key_version)
    if (op.kind === 'rewrap') {
      const ciphertext = str(body.ciphertext)
      if (ciphertext === undefined) return { status: 400, error: 'missing ciphertext to rewrap' }
      // The plaintext stays inside keyd: decrypted and sealed again under the latest version.
      const opened = store.decrypt(key, { ciphertext, context: contextBytes, aad })
      try {
        const sealed = store.encrypt(key, {
          plaintext: opened.plaintext,
          context: contextBytes,
          aad,
          ...(requested === undefined ? {} : { version: requested }),
        })
        facts.keyVersion = sealed.version
        return { status: 200, data: { ciphertext: sealed.ciphertext, key_version: sealed.version } }
      } finally {
        opened.plaintext.fill(0)
      }
    }
    let plaintext: Buffer
    if (op.kind === 'encrypt') {
      if (str(body.plaintext) === undefined)
        return { status: 400, error: 'missing plaintext to encrypt' }
      plaintext = Buffer.from(str(body.plaintext) as string, 'base64')
    } else {
      const bits = body.bits === undefined ? 256 : Number(body.bits)
      if (bits !== 128 && bits !== 256 && bits !== 512)
        return { status: 400, error: 'invalid bits given' }
      plaintext = randomBytes(bits / 8)
    }
    const sealed = store.encrypt(key, {
      plaintext,
      context: contextBytes,
      aad,
      ...(requested === undefined ? {} : { version: requested }),
    })
    facts.keyVersion = sealed.version
    const data: Record<string, unknown> = {
      ciphertext: sealed.ciphertext,
      key_version: sealed.version,
    }
    if (op.kind === 'datakey' && op.plaintext) data.plaintext = plaintext.toString('base64')
    return { status: 200, data }
  }

  async function createKey(
    name: string,
    body: Record<string, unknown>,
    facts: Facts,
  ): Promise<Answer> {
    facts.op = 'create-key'
    const type = body.type ?? 'aes256-gcm96'
    if (type !== 'aes256-gcm96')
      return {
        status: 400,
        error: `unknown key type: keyd supports only "aes256-gcm96", got "${String(type)}"`,
      }
    if (body.exportable === true || body.allow_plaintext_backup === true) {
      return { status: 400, error: 'exportable keys and plaintext backups are not supported' }
    }
    if (body.derived !== undefined && typeof body.derived !== 'boolean')
      return { status: 400, error: "'derived' must be a boolean" }
    await store.create(name, { derived: body.derived === true })
    return { status: 204 }
  }

  function readKey(name: string, facts: Facts): Answer {
    facts.op = 'read-key'
    const key = store.get(name)
    if (key === undefined) return { status: 404, error: 'encryption key not found' }
    return { status: 200, data: describeKey(key) }
  }

  async function configureKey(
    name: string,
    body: Record<string, unknown>,
    facts: Facts,
  ): Promise<Answer> {
    facts.op = 'config-key'
    const key = store.get(name)
    if (key === undefined) return { status: 400, error: 'encryption key not found' }
    const patch: {
      deletionAllowed?: boolean
      minDecryptionVersion?: number
      minEncryptionVersion?: number
    } = {}
    if (body.deletion_allowed !== undefined) {
      if (typeof body.deletion_allowed !== 'boolean')
        return { status: 400, error: "'deletion_allowed' must be a boolean" }
      patch.deletionAllowed = body.deletion_allowed
    }
    if (body.min_decryption_version !== undefined) {
      const v = Number(body.min_decryption_version)
      if (!Number.isInteger(v) || v < 0 || v > key.latestVersion) {
        return { status: 400, error: 'cannot set min decryption version above the latest version' }
      }
      patch.minDecryptionVersion = Math.max(1, v)
    }
    if (body.min_encryption_version !== undefined) {
      const v = Number(body.min_encryption_version)
      if (!Number.isInteger(v) || v < 0 || v > key.latestVersion) {
        return { status: 400, error: 'cannot set min encryption version above the latest version' }
      }
      patch.minEncryptionVersion = v
    }
    await store.configure(name, patch)
    return { status: 204 }
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID()
    const facts: Facts = { op: 'request' }
    const client = authenticate(req)
    void (async () => {
      let answer: Answer
      try {
        answer = await handle(req, requestId, facts, client)
      } catch (err) {
        answer =
          err instanceof TransitFailure
            ? { status: 400, error: err.message }
            : err instanceof BodyTooLarge
              ? { status: 413, error: 'request body too large' }
              : { status: 500, error: 'internal error' }
        if (answer.status === 500) logger?.error({ err, requestId }, 'keyd request failed')
      }
      const record: AuditRecord = {
        requestId,
        op: facts.op,
        outcome: answer.status < 300 ? 'ok' : answer.status === 403 ? 'denied' : 'error',
        status: answer.status,
        client:
          client === undefined ? 'unknown' : client.role === 'admin' ? 'admin' : `dc:${client.dc}`,
        ...(facts.key === undefined ? {} : { key: facts.key }),
        ...(facts.keyVersion === undefined ? {} : { keyVersion: facts.keyVersion }),
        ...(facts.context === undefined
          ? {}
          : { dc: facts.context.dc, bucket: facts.context.bucket }),
        ...('error' in answer ? { reason: answer.error } : {}),
      }
      try {
        await audit.append(record)
      } catch (err) {
        // Fail closed: an answer that cannot be audited is not sent.
        logger?.error({ err, requestId }, 'keyd audit log write failed')
        answer = { status: 500, error: 'internal error' }
      }
      send(res, requestId, answer)
    })()
  })

  return {
    server,
    listen: (options = {}) =>
      new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
          server.off('error', reject)
          const address = server.address() as AddressInfo
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
          resolve(`http://${host}:${address.port}`)
        })
      }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await audit.close()
    },
  }
}

function describeKey(key: KeydKey): Record<string, unknown> {
  return {
    name: key.name,
    type: key.type,
    derived: key.derived,
    deletion_allowed: key.deletionAllowed,
    exportable: false,
    allow_plaintext_backup: false,
    keys: Object.fromEntries(Object.entries(key.versions).map(([v, k]) => [v, k.created])),
    latest_version: key.latestVersion,
    min_decryption_version: key.minDecryptionVersion,
    min_encryption_version: key.minEncryptionVersion,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: true,
    supports_signing: false,
    imported: false,
  }
}

function send(res: ServerResponse, requestId: string, answer: Answer): void {
  if (answer.status === 204) {
    res.writeHead(204).end()
    return
  }
  const body =
    'data' in answer
      ? {
          request_id: requestId,
          lease_id: '',
          renewable: false,
          lease_duration: 0,
          data: answer.data,
          wrap_info: null,
          warnings: null,
          auth: null,
        }
      : { errors: ['error' in answer ? answer.error : 'unknown error'] }
  const text = JSON.stringify(body)
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

class BodyTooLarge extends Error {}

async function readJson(
  req: IncomingMessage,
  max: number,
): Promise<Record<string, unknown> | undefined> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > max) throw new BodyTooLarge()
    parts.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'))
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}
