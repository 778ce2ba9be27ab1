import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Logger } from '../core/index.js'
import type { AdminAuthDeps } from './admin-auth.js'
import { AdminErrors } from './admin-error.js'
import { toAdminError } from './errors.js'
import { type PublicLedger, serveLedger } from './ledger-routes.js'
import { buildOpenApiDocument } from './openapi.js'
import type { AdminRoute } from './route.js'
import { createAdminRouter } from './router.js'
import { type AdminRouteDeps, adminRoutes } from './routes/all-routes.js'

/** Everything the admin port is built from. */
export interface AdminDeps extends Omit<AdminRouteDeps, 'ledgerKeys'> {
  readonly registry: Registry
  /** Each served data center's public log, by data center id (a live view: it grows and shrinks). */
  readonly ledgers: ReadonlyMap<string, PublicLedger>
  readonly auth: AdminAuthDeps
  readonly logger: Logger
  /** The API version shown in the OpenAPI document. */
  readonly version: string
}

/** The admin port's JSON routes and its OpenAPI document, built from the same declarations. */
export function adminApi(deps: AdminDeps): { routes: AdminRoute[]; openApi: () => object } {
  let document: object | undefined
  const routes: AdminRoute[] = adminRoutes({
    ...deps,
    ledgerKeys: () =>
      [...deps.ledgers.values()].map((l) => ({
        dc: l.dc,
        origin: l.origin,
        verifierKey: l.verifierKey,
      })),
    openApi: () => open(),
  })
  const open = () => {
    document ??= buildOpenApiDocument(routes, { version: deps.version })
    return document
  }
  return { routes, openApi: open }
}

/**
 * The admin port's request listener. Public and raw: `/metrics` (Prometheus text) and the
 * public ledger (`/ledger/<dc>/…`, C2SP tlog-tiles). Everything else is a JSON route declared in
 * `routes/` (`/healthz`, `/admin/v1/…`, the OpenAPI document at `/admin/v1/openapi.json`).
 */
export function createAdminHandler(
  deps: AdminDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { routes } = adminApi(deps)
  const router = createAdminRouter(routes, { auth: deps.auth, logger: deps.logger })
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    const raw = path === '/metrics' || path.startsWith('/ledger/')
    if (raw && req.method !== 'GET' && req.method !== 'HEAD') {
      sendJsonError(res, AdminErrors.methodNotAllowed(req.method ?? '', path, ['GET']))
      return
    }
    if (path === '/metrics') {
      deps.registry.metrics().then(
        (text) => send(200, deps.registry.contentType, text),
        () => send(500, 'text/plain', 'metrics unavailable\n'),
      )
      return
    }
    if (path.startsWith('/ledger/')) {
      serveLedger(path, res, deps.ledgers).catch(() => {
        if (!res.headersSent) send(500, 'text/plain', 'ledger unavailable\n')
      })
      return
    }
    if (router(req, res)) return
    sendJsonError(res, AdminErrors.notFound(path))
  }
}

function sendJsonError(res: ServerResponse, err: unknown): void {
  const wire = toAdminError(err)
  const text = JSON.stringify(wire.body)
  res.writeHead(wire.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(wire.details.allow === undefined ? {} : { allow: wire.details.allow }),
  })
  res.end(text)
}
