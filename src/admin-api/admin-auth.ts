import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import {
  authenticate,
  type OperatorTokenCheck,
  type PayloadMode,
  SigV4Errors,
} from '../access/index.js'
import { AdminErrors } from './admin-error.js'
import type { AdminTenant, Principal, RouteAuth } from './route.js'

/** The subset of the directory tenant authentication needs. */
export interface AdminAuthDirectory {
  lookupAccessKey(
    accessKeyId: string,
  ): Promise<{ readonly tenantId: string; readonly secretAccessKey: string } | null>
  getTenant(idOrName: string): Promise<AdminTenant | null>
}

/** What the admin face authenticates with. */
export interface AdminAuthDeps {
  /** The operator token in force. */
  readonly operatorToken: OperatorTokenCheck
  readonly directory: AdminAuthDirectory
  /** Regions a tenant's signature may name: every data center id, and `us-east-1`. */
  readonly regions: () => readonly string[]
  readonly maxClockSkewMs: number
  readonly now: () => number
}

/** Who called, and for a tenant how the body must be checked once read. */
export interface Authenticated {
  readonly principal: Principal
  readonly payload: PayloadMode | null
}

const BEARER = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i

/**
 * Authenticates a request for a route of the given kind. Deny by default: an operator route
 * takes only the operator token, a tenant route only a valid SigV4 signature, a
 * tenant-or-operator route either (a bearer token must be the operator's, anything else must be
 * a valid signature); anything missing is 401 and the wrong kind of credential is 403.
 */
export async function authenticateAdmin(
  req: IncomingMessage,
  { auth, deps }: { readonly auth: RouteAuth; readonly deps: AdminAuthDeps },
): Promise<Authenticated> {
  if (auth === 'public') return { principal: { kind: 'anonymous' }, payload: null }
  const header = req.headers.authorization
  const isBearer = header !== undefined && /^bearer\b/i.test(header)
  const isSigV4 = header?.startsWith('AWS4-') === true || /[?&]X-Amz-Signature=/.test(req.url ?? '')
  if (auth === 'tenant-or-operator' && header === undefined && !isSigV4) {
    throw AdminErrors.unauthenticated(
      'send "Authorization: Bearer <operator token>", or sign the request with SigV4 and one of your S3 access keys',
    )
  }
  if (auth === 'operator' || (auth === 'tenant-or-operator' && isBearer)) {
    if (isSigV4) throw AdminErrors.forbidden('this route is for operators; tenants cannot call it')
    if (header === undefined) {
      throw AdminErrors.unauthenticated('send "Authorization: Bearer <operator token>"')
    }
    const token = BEARER.exec(header)?.[1]
    if (token === undefined || !deps.operatorToken.matches(token)) {
      throw AdminErrors.unauthenticated('the operator token is not valid')
    }
    return { principal: { kind: 'operator' }, payload: null }
  }
  if (isBearer) throw AdminErrors.forbidden('this route is for tenants; sign it with an S3 key')
  // The key found while verifying the signature is the one whose tenant acts: looked up once.
  const signer: { tenantId: string | null } = { tenantId: null }
  const result = await authenticate(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
    {
      lookup: async (id) => {
        const found = await deps.directory.lookupAccessKey(id)
        signer.tenantId = found?.tenantId ?? null
        return found
      },
      regions: ['us-east-1', ...deps.regions()],
      now: deps.now(),
      maxSkewMs: deps.maxClockSkewMs,
    },
  )
  if (result.kind === 'anonymous' || signer.tenantId === null) {
    throw AdminErrors.unauthenticated('sign the request with SigV4 and one of your S3 access keys')
  }
  const tenant = await deps.directory.getTenant(signer.tenantId)
  if (tenant === null) throw AdminErrors.unauthenticated('the access key has no tenant')
  return {
    principal: { kind: 'tenant', tenant, accessKeyId: result.accessKeyId },
    payload: result.payload,
  }
}

/**
 * Checks a tenant's body against what its signature covers. The admin API reads small JSON
 * bodies whole, so only a signed SHA-256 or `UNSIGNED-PAYLOAD` with an empty body are accepted;
 * aws-chunked streaming is refused.
 */
export function checkSignedPayload(payload: PayloadMode | null, body: Buffer): void {
  if (payload === null) return
  switch (payload.kind) {
    case 'sha256': {
      const actual = createHash('sha256').update(body).digest('hex')
      if (actual !== payload.expected) {
        throw SigV4Errors.contentSha256Mismatch(payload.expected, actual)
      }
      return
    }
    case 'unsigned':
      if (body.length > 0) {
        throw AdminErrors.forbidden(
          'a body must be signed: send its SHA-256 in x-amz-content-sha256',
        )
      }
      return
    case 'streaming-signed':
    case 'streaming-unsigned':
      throw AdminErrors.forbidden('aws-chunked bodies are not accepted by the admin API')
  }
}
