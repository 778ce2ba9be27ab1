import type { Command } from 'commander'
import { readOperatorTokenFile, signRequestHeaders } from '../access/index.js'
import type { SovraConfig } from '../config/index.js'
import type { CliIo } from './cli-io.js'

/**
 * A data center as the admin API answers it (`#/components/schemas/DataCenter` of its OpenAPI
 * document). Declared here: faces do not import each other, and the CLI is a client of the wire
 * format, not of the server's code.
 */
export interface AdminDataCenter {
  readonly id: string
  readonly name: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly port: number
  readonly endpoint: string | null
}

/** Options every command that calls the admin API takes. */
export interface AdminClientOptions {
  readonly adminUrl?: string
  readonly token?: string
}

/** Adds `--admin-url` and `--token` to a command. */
export function adminOptions(command: Command): Command {
  return command
    .option(
      '--admin-url <url>',
      'admin API endpoint (default: $SOVRA_ADMIN_URL, else http://<publicHost>:<adminPort> from config)',
    )
    .option(
      '--token <token>',
      'operator token (default: $SOVRA_OPERATOR_TOKEN, else <dataDir>/keys/operator.token); prefer those: arguments are visible to other users',
    )
}

/** An error answer of the admin API, shown as `sovra: <message> (<code>)`. */
export class AdminApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(`${message} (${code})`)
    this.name = 'AdminApiError'
    this.status = status
    this.code = code
  }
}

/** The admin API could not be reached at all (nothing listens, DNS, TLS). */
export class AdminUnreachable extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `Cannot reach the admin API at "${url}": ${(cause as Error)?.message ?? String(cause)}; is "sovra serve" running, and is --admin-url right?`,
      { cause },
    )
    this.name = 'AdminUnreachable'
  }
}

/**
 * A tenant's S3 credentials, which also sign its admin API requests (SigV4, service `s3`,
 * region `us-east-1`): from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, as the AWS tools read
 * them. Never taken from arguments: those are visible to other users of the machine.
 */
export interface TenantCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

/** A small JSON client of the admin API for the CLI. */
export interface AdminClient {
  readonly url: string
  /** GET a public route. */
  get<T>(path: string): Promise<T>
  /** POST to an operator route with the operator token. */
  post<T>(path: string, body?: unknown): Promise<T>
  /** Calls a tenant route, signed with the tenant's S3 key (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). */
  asTenant<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>
}

/** The tenant credentials in the environment; a clear error when they are missing. */
export function tenantCredentialsOf(io: CliIo): TenantCredentials {
  const accessKeyId = io.env.AWS_ACCESS_KEY_ID
  const secretAccessKey = io.env.AWS_SECRET_ACCESS_KEY
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'No tenant credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to one of your S3 access keys',
    )
  }
  return { accessKeyId, secretAccessKey }
}

/** The admin URL: `--admin-url`, then `SOVRA_ADMIN_URL`, then the configured admin port. */
function adminUrlOf(io: CliIo, config: SovraConfig, options: AdminClientOptions): string {
  const configured = options.adminUrl ?? io.env.SOVRA_ADMIN_URL
  if (configured !== undefined && configured !== '') return configured.replace(/\/+$/, '')
  const host = config.publicHost.includes(':') ? `[${config.publicHost}]` : config.publicHost
  return `http://${host}:${config.adminPort === 0 ? 9000 : config.adminPort}`
}

/** Builds the client; the token is looked up only when an operator route is called. */
export function createAdminClient(
  io: CliIo,
  { config, options }: { readonly config: SovraConfig; readonly options: AdminClientOptions },
): AdminClient {
  const url = adminUrlOf(io, config, options)
  const fetchFn = io.fetch ?? fetch
  const call = async <T>(method: string, path: string, init: RequestInit): Promise<T> => {
    let res: Response
    try {
      res = await fetchFn(`${url}${path}`, { ...init, method })
    } catch (err) {
      throw new AdminUnreachable(url, (err as Error).cause ?? err)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text === '' ? {} : JSON.parse(text)
    } catch {
      throw new AdminApiError(res.status, 'InvalidResponse', `"${url}" did not answer JSON`)
    }
    if (!res.ok) {
      const { code, message } = json as { code?: string; message?: string }
      throw new AdminApiError(res.status, code ?? String(res.status), message ?? res.statusText)
    }
    return json as T
  }
  return {
    url,
    get: (path) => call('GET', path, {}),
    asTenant(method, path, body) {
      const credentials = tenantCredentialsOf(io)
      const payload = body === undefined ? undefined : JSON.stringify(body)
      const { headers } = signRequestHeaders({
        ...credentials,
        region: 'us-east-1',
        now: Date.now(),
        method,
        url: `${url}${path}`,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        ...(payload === undefined ? {} : { body: payload }),
      })
      // fetch sets Host itself, from the URL the signature was made for.
      const { host: _host, ...sent } = headers
      return call(method, path, {
        headers: {
          ...sent,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: payload }),
      })
    },
    async post(path, body) {
      const token =
        options.token ?? config.operatorToken ?? (await readOperatorTokenFile(config.dataDir))
      if (token === undefined) {
        throw new Error(
          'No operator token: pass --token, set SOVRA_OPERATOR_TOKEN, or run on the server machine (it reads <dataDir>/keys/operator.token)',
        )
      }
      return call('POST', path, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    },
  }
}
