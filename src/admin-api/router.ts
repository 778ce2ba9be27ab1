import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import type { Logger } from '../core/index.js'
import { type AdminAuthDeps, authenticateAdmin, checkSignedPayload } from './admin-auth.js'
import { AdminErrors, type ValidationIssue } from './admin-error.js'
import { toAdminError } from './errors.js'
import type { AdminRoute } from './route.js'

/** Largest JSON body the admin API reads. */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024

interface CompiledRoute {
  readonly route: AdminRoute
  readonly pattern: RegExp
  readonly names: readonly string[]
}

/** What the router needs besides its routes. */
export interface AdminRouterDeps {
  readonly auth: AdminAuthDeps
  readonly logger: Logger
}

/**
 * Dispatches JSON admin requests: match → authenticate → read and validate → handler → validate
 * the response → JSON. Returns a listener that answers `false` synchronously when no route has
 * the path, so the caller can serve something else (or 404).
 */
export function createAdminRouter(
  routes: readonly AdminRoute[],
  deps: AdminRouterDeps,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const compiled = routes.map(compile)
  const seen = new Set<string>()
  for (const { route } of compiled) {
    const key = `${route.method} ${route.path}`
    if (seen.has(key) || seen.has(route.operationId)) {
      throw new TypeError(`Admin route "${key}" (${route.operationId}) is declared twice`)
    }
    seen.add(key)
    seen.add(route.operationId)
  }
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const matches = compiled
      .map((c) => ({ c, m: c.pattern.exec(path) }))
      .filter((x): x is { c: CompiledRoute; m: RegExpExecArray } => x.m !== null)
    if (matches.length === 0) return false
    const requestId = randomBytes(8).toString('hex').toUpperCase()
    const log = deps.logger.child({ requestId, face: 'admin' })
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const found = matches.find((x) => x.c.route.method === method)
    const run = async () => {
      if (found === undefined) {
        const allowed = matches.map((x) => x.c.route.method)
        throw AdminErrors.methodNotAllowed(req.method ?? '', path, allowed)
      }
      await handle(found.c, found.m, { req, res, requestId, log, deps })
    }
    run().catch((err: unknown) => sendError(res, err, { requestId, log, method: req.method }))
    return true
  }
}

async function handle(
  compiled: CompiledRoute,
  match: RegExpExecArray,
  ctx: {
    req: IncomingMessage
    res: ServerResponse
    requestId: string
    log: Logger
    deps: AdminRouterDeps
  },
): Promise<void> {
  const { route } = compiled
  const { req, res } = ctx
  const authenticated = await authenticateAdmin(req, { auth: route.auth, deps: ctx.deps.auth })
  const raw = await readBody(req, route.maxBodyBytes ?? MAX_ADMIN_BODY_BYTES)
  checkSignedPayload(authenticated.payload, raw)

  const issues: ValidationIssue[] = []
  const rawParams: Record<string, string> = {}
  compiled.names.forEach((name, i) => {
    const value = match[i + 1] ?? ''
    try {
      rawParams[name] = decodeURIComponent(value)
    } catch {
      issues.push({ path: ['params', name], message: 'malformed percent-encoding' })
    }
  })
  const query = Object.fromEntries(new URL(req.url ?? '/', 'http://admin').searchParams)
  const params = validate(route.params, rawParams, 'params', issues)
  const parsedQuery = validate(route.query, query, 'query', issues)
  let body: unknown
  if (route.body === undefined) {
    if (raw.length > 0) issues.push({ path: ['body'], message: 'expected no body' })
  } else {
    body = validate(route.body, parseJsonBody(req, raw), 'body', issues)
  }
  if (issues.length > 0) throw AdminErrors.validationFailed(issues)

  const result = await route.handler({
    params,
    query: parsedQuery,
    body,
    principal: authenticated.principal,
    requestId: ctx.requestId,
    log: ctx.log,
  })
  // The response schema is the document's promise: a handler that breaks it is a server bug.
  const output = route.response.parse(result)
  const text = JSON.stringify(output)
  res.writeHead(route.status ?? 200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-request-id': ctx.requestId,
  })
  res.end(req.method === 'HEAD' ? undefined : text)
}

/** Parses `value` with `schema` (absent: `undefined`), collecting issues under `where`. */
function validate(
  schema: z.ZodType | undefined,
  value: unknown,
  where: 'params' | 'query' | 'body',
  issues: ValidationIssue[],
): unknown {
  if (schema === undefined) return undefined
  const result = schema.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) {
    issues.push({
      path: [where, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
      message: issue.message,
    })
  }
  return undefined
}

function parseJsonBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return undefined
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type !== 'application/json') throw AdminErrors.unsupportedMediaType(type || '(none)')
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch (err) {
    throw AdminErrors.invalidJson((err as Error).message)
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0')
  if (declared > limit) throw AdminErrors.payloadTooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw AdminErrors.payloadTooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function sendError(
  res: ServerResponse,
  err: unknown,
  ctx: { requestId: string; log: Logger; method: string | undefined },
): void {
  const wire = toAdminError(err)
  if (wire.internal) ctx.log.error({ err }, 'Admin request failed')
  else ctx.log.info({ code: wire.body.code, status: wire.status }, 'Admin request refused')
  if (res.headersSent) {
    res.destroy()
    return
  }
  const text = JSON.stringify(wire.body)
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-request-id': ctx.requestId,
  }
  if (wire.status === 401) headers['www-authenticate'] = 'Bearer realm="sovra-admin"'
  const allow = wire.details.allow
  if (wire.status === 405 && allow !== undefined) headers.allow = allow
  // A body left unread would be parsed as the next request on this connection: close it.
  if (!res.req.complete) headers.connection = 'close'
  res.writeHead(wire.status, headers)
  res.end(ctx.method === 'HEAD' ? undefined : text)
}

function compile(route: AdminRoute): CompiledRoute {
  const names: string[] = []
  const source = route.path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1]
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      names.push(name)
      return '([^/]+)'
    })
    .join('')
  return { route, pattern: new RegExp(`^${source}$`), names }
}
