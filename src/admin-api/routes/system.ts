import { z } from 'zod'
import { defineRoute } from '../route.js'

/** A data center's public log identity. */
export interface LedgerKeyView {
  readonly dc: string
  readonly origin: string
  readonly verifierKey: string
}

/** What the system routes need. */
export interface SystemRouteDeps {
  /** The verifier keys of every served data center's log. */
  readonly ledgerKeys: () => readonly LedgerKeyView[]
}

/** Health, the OpenAPI document and the ledgers' verifier keys: all public. */
export function systemRoutes(deps: SystemRouteDeps & { readonly openApi: () => object }) {
  return [
    defineRoute({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness: answers while the process serves',
      tag: 'system',
      auth: 'public',
      response: z.object({ status: z.literal('ok') }),
      handler: async () => ({ status: 'ok' as const }),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/openapi.json',
      operationId: 'openApiDocument',
      summary: 'This document (OpenAPI 3.1), generated from the schemas that validate requests',
      tag: 'system',
      auth: 'public',
      response: z.record(z.string(), z.unknown()),
      handler: async () => deps.openApi() as Record<string, unknown>,
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/ledger/keys',
      operationId: 'listLedgerKeys',
      summary: "Each data center's log origin and Ed25519 verifier key (C2SP signed-note form)",
      tag: 'ledger',
      auth: 'public',
      response: z.object({
        ledgers: z.array(z.object({ dc: z.string(), origin: z.string(), verifierKey: z.string() })),
      }),
      handler: async () => ({ ledgers: [...deps.ledgerKeys()] }),
    }),
  ]
}
