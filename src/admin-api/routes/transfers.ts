import { z } from 'zod'
import type { TransferRecord } from '../../directory/index.js'
import {
  INSTRUCTION_LIMITS,
  parseSignedInstruction,
  type TransferService,
} from '../../residency/index.js'
import { AdminErrors } from '../admin-error.js'
import { defineRoute } from '../route.js'

/** The part of the transfer gate's service the transfer routes drive. */
export type TransferControl = Pick<TransferService, 'submit' | 'status' | 'list'>

/** What the transfer routes need. */
export interface TransferRouteDeps {
  readonly transfers: TransferControl
}

const STATUSES = ['queued', 'running', 'done', 'failed'] as const

/** Most transfers one list answers. */
export const MAX_TRANSFERS_PAGE = 1000

const time = z.string().meta({ description: 'RFC 3339, UTC' })
const end = z.object({ dc: z.string(), bucket: z.string() })

const transferSchema = z
  .object({
    id: z.string().meta({ description: 'SHA-256 hex of the instruction’s canonical bytes' }),
    tenantId: z.string(),
    keyId: z.string().meta({ description: 'The signing key of the instruction' }),
    operation: z.enum(['copy', 'move', 'migrate']),
    source: end,
    destination: end,
    scope: z
      .union([
        z.object({ kind: z.literal('bucket') }),
        z.object({ kind: z.literal('prefix'), prefix: z.string() }),
        z.object({ kind: z.literal('keys'), keys: z.array(z.string()) }),
      ])
      .meta({ description: 'What the instruction covers in the source bucket, as signed' }),
    notBefore: time,
    notAfter: time.meta({ description: 'S3 copies under this instruction are refused after it' }),
    status: z.enum(STATUSES),
    phase: z.enum(['copy', 'switched', 'cleanup']),
    objectsDone: z.int(),
    bytesDone: z.int(),
    objectsMissing: z.int().meta({ description: 'Keys of a "keys" scope that did not exist' }),
    error: z.string().nullable(),
    submittedAt: time,
    loggedAt: time
      .nullable()
      .meta({ description: 'When the instruction was in both data centers’ ledgers' }),
    finishedAt: time.nullable(),
  })
  .meta({ id: 'Transfer' })

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A transfer as the admin API shows it: everything but the signed document itself. */
export function transferView(t: TransferRecord): z.input<typeof transferSchema> {
  const { instruction } = parseSignedInstruction(JSON.parse(t.signed) as unknown)
  return {
    id: t.id,
    tenantId: t.tenantId,
    keyId: t.keyId,
    operation: t.operation,
    source: { ...t.source },
    destination: { ...t.destination },
    scope:
      instruction.scope.kind === 'keys'
        ? { kind: 'keys', keys: [...instruction.scope.keys] }
        : { ...instruction.scope },
    notBefore: instruction.notBefore,
    notAfter: instruction.notAfter,
    status: t.status,
    phase: t.phase,
    objectsDone: t.objectsDone,
    bytesDone: t.bytesDone,
    objectsMissing: t.objectsMissing,
    error: t.error,
    submittedAt: new Date(t.submittedAt).toISOString(),
    loggedAt: iso(t.loggedAt),
    finishedAt: iso(t.finishedAt),
  }
}

/**
 * The signed document, passed to the gate untouched: the gate parses it strictly itself (every
 * refusal is its own `InstructionMalformed`, naming the field), so no member is added, dropped or
 * coerced on the way. The schema below only describes it in the OpenAPI document.
 */
const signedInstructionSchema = z.unknown().meta({
  id: 'SignedInstruction',
  description:
    'The signed instruction exactly as `sovra transfer sign` writes it (docs/transfer-instructions.md): `{ instruction, signature, keyId }`',
  type: 'object',
  required: ['instruction', 'signature', 'keyId'],
  properties: {
    instruction: { type: 'object', description: 'The instruction object, format version 1' },
    signature: { type: 'string', description: 'Ed25519 signature, standard base64 with padding' },
    keyId: { type: 'string', description: 'Id of the registered signing key' },
  },
})

const transferId = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { error: 'expected a transfer id: 64 lower-case hex digits' })

const listQuery = z.strictObject({
  status: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(STATUSES)))
    .optional()
    .meta({ description: 'Only these statuses, comma-separated (queued, running, done, failed)' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TRANSFERS_PAGE)
    .optional()
    .meta({
      description: `At most this many, the newest (default 100, at most ${MAX_TRANSFERS_PAGE})`,
    }),
  tenant: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Operators only: this tenant’s transfers (id or name); default all' }),
})

/**
 * Transfers between data centers. Only a tenant submits, and only its own instructions (the
 * instruction's `tenantId` must be the caller's): an operator cannot forge an instruction, and
 * does not submit one on a tenant's behalf either. Tenants and operators both read: a tenant its
 * own transfers (another tenant's is 404, as if it did not exist), an operator all of them.
 */
export function transferRoutes(deps: TransferRouteDeps) {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/v1/transfers',
      operationId: 'submitTransfer',
      summary:
        'Submit a signed transfer instruction: verified, recorded, logged in both data centers, then run',
      description:
        'The body is the signed document as written by `sovra transfer sign` (up to 2 MiB). Refusals carry the gate’s precise code: 400 InstructionMalformed; 403 InstructionKeyUnknown, InstructionKeyRevoked, InstructionSignatureInvalid, InstructionNotYetValid, InstructionExpired, InstructionScopeMismatch (for instance an instruction of another tenant), Export*; 409 InstructionReplayed, InstructionBucketMismatch, NoSuchDataCenter, DataCenterNotActive. A refused instruction records nothing and moves nothing. The answer is the queued transfer; poll `GET /admin/v1/transfers/{id}`.',
      tag: 'transfers',
      auth: 'tenant',
      body: signedInstructionSchema,
      maxBodyBytes: INSTRUCTION_LIMITS.maxDocumentBytes,
      response: transferSchema,
      status: 201,
      errors: [409],
      handler: async ({ principal, body }) =>
        transferView(await deps.transfers.submit(body, principal.tenant.id)),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/transfers',
      operationId: 'listTransfers',
      summary: 'Transfers, newest first: a tenant’s own, or (operator) everyone’s',
      description:
        'A tenant sees only its own transfers and may not name `tenant` (403 Forbidden); an operator sees all, or one tenant’s with `tenant` (404 NoSuchTenant if there is none).',
      tag: 'transfers',
      auth: 'tenant-or-operator',
      query: listQuery,
      response: z.object({ transfers: z.array(transferSchema) }),
      errors: [404],
      handler: async ({ principal, query }) => {
        let tenant: string | undefined = query.tenant
        if (principal.kind === 'tenant') {
          if (query.tenant !== undefined) {
            throw AdminErrors.forbidden('only operators may name "tenant": tenants see their own')
          }
          tenant = principal.tenant.id
        }
        const list = await deps.transfers.list({
          ...(tenant === undefined ? {} : { tenant }),
          ...(query.status === undefined ? {} : { statuses: query.status }),
          limit: query.limit ?? 100,
        })
        return { transfers: list.map(transferView) }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/transfers/{id}',
      operationId: 'getTransfer',
      summary: 'One transfer and its progress',
      description:
        'A tenant gets 404 NoSuchTransfer for another tenant’s transfer, exactly as for one that does not exist.',
      tag: 'transfers',
      auth: 'tenant-or-operator',
      params: z.strictObject({ id: transferId }),
      response: transferSchema,
      errors: [404],
      handler: async ({ principal, params }) =>
        transferView(
          await deps.transfers.status(
            params.id,
            principal.kind === 'tenant' ? principal.tenant.id : undefined,
          ),
        ),
    }),
  ]
}
