import { z } from 'zod'
import {
  type CellLedger,
  MAX_EVENTS_PAGE,
  TenantEventsRangeError,
  tenantEvents,
} from '../../cell/index.js'
import { commit, LEDGER_EVENT_TYPES } from '../../ledger/index.js'
import { AdminErrors } from '../admin-error.js'
import { defineRoute } from '../route.js'

/** What the tenant ledger routes need. */
export interface LedgerEventRouteDeps {
  /** A running log by id: a data center's, or `directory`. */
  readonly ledgerOf: (id: string) => CellLedger | undefined
  /** The tenant's ledger secret (the HMAC key of its commitments). */
  readonly ledgerSecretOf: (tenantId: string) => Promise<Buffer>
}

const time = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-11-27T10:00:00Z' })
  .transform((s) => new Date(s))

const eventsQuery = z.strictObject({
  dc: z.string().min(1).meta({ description: 'The log: a data center id, or "directory"' }),
  bucket: z.string().min(1).optional(),
  type: z.enum(LEDGER_EVENT_TYPES).optional(),
  from: time.optional().meta({ description: 'Only events at or after this time' }),
  to: time.optional().meta({ description: 'Only events before this time' }),
  treeSize: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Size of the checkpoint to prove against; default the latest' }),
  after: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .meta({ description: 'Paging: `next` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS_PAGE).optional(),
})

const pageSchema = z
  .object({
    dc: z.string(),
    origin: z.string(),
    treeSize: z.int(),
    checkpoint: z
      .string()
      .nullable()
      .meta({ description: 'The signed checkpoint of treeSize when it is the latest, else null' }),
    events: z.array(
      z.object({
        index: z.int().meta({ description: 'Leaf index in the log' }),
        event: z.record(z.string(), z.unknown()),
        entry: z.string().meta({ description: 'The entry bytes (base64): the leaf is their hash' }),
        proof: z.array(z.string()).meta({ description: 'RFC 6962 inclusion proof, base64 hashes' }),
      }),
    ),
    next: z.int().nullable(),
  })
  .meta({ id: 'TenantEventsPage' })

/** A tenant's own ledger: its secret, and its events with inclusion proofs. */
export function ledgerEventRoutes(deps: LedgerEventRouteDeps) {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/v1/tenant/ledger-secret',
      operationId: 'getLedgerSecret',
      summary: "The calling tenant's ledger secret, to recognise its commitments in public logs",
      tag: 'tenant',
      auth: 'tenant',
      response: z.object({
        secret: z.string().meta({ description: '32 bytes, base64' }),
        commitment: z.string().meta({ description: 'HMAC-SHA256(secret, tenant id), hex' }),
        tenantId: z.string(),
      }),
      handler: async ({ principal }) => {
        const secret = await deps.ledgerSecretOf(principal.tenant.id)
        return {
          secret: secret.toString('base64'),
          commitment: commit(secret, principal.tenant.id),
          tenantId: principal.tenant.id,
        }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/tenant/events',
      operationId: 'listTenantEvents',
      summary: "The calling tenant's own events in one log, each with an inclusion proof",
      description:
        'Events are found by the commitment to the tenant id (and to the bucket name); each comes with its leaf index, its exact entry bytes and an RFC 6962 inclusion proof against the named (or latest) tree size. Page with `after` = the previous `next`.',
      tag: 'tenant',
      auth: 'tenant',
      query: eventsQuery,
      response: pageSchema,
      errors: [404],
      handler: async ({ principal, query }) => {
        const ledger = deps.ledgerOf(query.dc)
        if (ledger === undefined) throw AdminErrors.notFound(`/ledger/${query.dc}`)
        try {
          const page = await tenantEvents(ledger, {
            tenantId: principal.tenant.id,
            secret: await deps.ledgerSecretOf(principal.tenant.id),
            ...(query.bucket === undefined ? {} : { bucket: query.bucket }),
            ...(query.type === undefined ? {} : { type: query.type }),
            ...(query.from === undefined ? {} : { from: query.from }),
            ...(query.to === undefined ? {} : { to: query.to }),
            ...(query.treeSize === undefined ? {} : { treeSize: query.treeSize }),
            ...(query.after === undefined ? {} : { after: query.after }),
            ...(query.limit === undefined ? {} : { limit: query.limit }),
          })
          return {
            dc: query.dc,
            origin: ledger.log.origin,
            ...page,
            events: page.events.map((e) => ({ ...e, event: { ...e.event }, proof: [...e.proof] })),
          }
        } catch (err) {
          if (err instanceof TenantEventsRangeError) {
            throw AdminErrors.validationFailed([{ path: ['treeSize'], message: err.message }])
          }
          throw err
        }
      },
    }),
  ]
}
