import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import { type PublicLedger, serveLedger } from './ledger-routes.js'

/** What the admin face serves for now: health and Prometheus metrics. */
export interface AdminDeps {
  readonly registry: Registry
  /** Each data center's public log, by data center id. */
  readonly ledgers: ReadonlyMap<string, PublicLedger>
  readonly dataCenters: () => ReadonlyArray<{
    id: string
    city: string
    jurisdiction: string
    status: string
    endpoint: string
  }>
}

/**
 * The admin port's request listener: `/metrics`, `/healthz`, `/admin/v1/data-centers`,
 * `/admin/v1/ledger/keys` and the public ledger (`/ledger/<dc>/…`).
 */
export function createAdminHandler(
  deps: AdminDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(
        405,
        'application/json',
        JSON.stringify({
          code: 'MethodNotAllowed',
          message: `Method "${req.method}" is not allowed`,
        }),
      )
      return
    }
    if (path === '/metrics') {
      deps.registry.metrics().then(
        (text) => send(200, deps.registry.contentType, text),
        () => send(500, 'text/plain', 'metrics unavailable\n'),
      )
      return
    }
    if (path?.startsWith('/ledger/')) {
      serveLedger(path, res, deps.ledgers).catch(() => {
        if (!res.headersSent) send(500, 'text/plain', 'ledger unavailable\n')
      })
      return
    }
    if (path === '/admin/v1/ledger/keys') {
      const keys = [...deps.ledgers.values()].map((l) => ({
        dc: l.dc,
        origin: l.origin,
        verifierKey: l.verifierKey,
      }))
      send(200, 'application/json', JSON.stringify({ ledgers: keys }))
      return
    }
    if (path === '/healthz') {
      send(200, 'application/json', '{"status":"ok"}')
      return
    }
    if (path === '/admin/v1/data-centers') {
      send(200, 'application/json', JSON.stringify({ dataCenters: deps.dataCenters() }))
      return
    }
    send(
      404,
      'application/json',
      JSON.stringify({ code: 'NotFound', message: `No admin resource at "${path}"` }),
    )
  }
}
