import {
  commit,
  encodeEvent,
  isPushback,
  LEDGER_EVENT_SCHEMA,
  type LedgerEvent,
} from '../ledger/index.js'
import type { RequestContext } from './context.js'
import { S3Error } from './s3-error.js'

/** The fields that vary by event type; the base (schema, time, dc, actor) is filled in here. */
type EventBody = LedgerEvent extends infer E
  ? E extends LedgerEvent
    ? Omit<E, 'schema' | 'at' | 'dc' | 'actor' | 'tenant' | 'bucket'>
    : never
  : never

/** Commits a customer value (key, bucket, prefix…) with the requesting tenant's ledger secret. */
export async function commitment(ctx: RequestContext, value: string): Promise<string> {
  return commit(await ctx.deps.directory.ledgerSecretOf(ctx.tenant.id), value)
}

async function buildEvent(
  ctx: RequestContext,
  body: EventBody,
  bucket: string,
): Promise<Uint8Array> {
  const secret = await ctx.deps.directory.ledgerSecretOf(ctx.tenant.id)
  const accessKey = ctx.auth.kind === 'signed' ? ctx.auth.accessKeyId : 'anonymous'
  const event = {
    schema: LEDGER_EVENT_SCHEMA,
    at: new Date(ctx.deps.now()).toISOString(),
    dc: ctx.deps.cell.dc.id,
    actor: {
      kind: 'tenant',
      tenant: commit(secret, ctx.tenant.id),
      accessKey: commit(secret, accessKey),
    },
    tenant: commit(secret, ctx.tenant.id),
    bucket: commit(secret, bucket),
    ...body,
  } as LedgerEvent
  return encodeEvent(event)
}

function slowDown(err: unknown): unknown {
  return isPushback(err) ? new S3Error('SlowDown', 'Please reduce your request rate.') : err
}

/**
 * Records a change in the cell's ledger and waits until it is durably sequenced: a mutation is
 * acknowledged only once its event cannot be lost. A full backlog answers `SlowDown`.
 */
export async function recordChange(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): Promise<void> {
  const entry = await buildEvent(ctx, body, bucket)
  try {
    await ctx.deps.cell.ledger.log.append(entry)
  } catch (err) {
    throw slowDown(err)
  }
}

/**
 * Records a read. With `ledger.reads: async` (default) the append is batched in the background
 * and the response does not wait; with `sync` it waits like a change.
 */
export async function recordRead(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): Promise<void> {
  if (ctx.deps.settings.ledgerReads === 'sync') {
    await recordChange(ctx, body, bucket)
    return
  }
  buildEvent(ctx, body, bucket)
    .then((entry) => ctx.deps.cell.ledger.log.append(entry))
    .catch((err: unknown) => ctx.log.warn({ err }, 'A read event could not be logged'))
}
