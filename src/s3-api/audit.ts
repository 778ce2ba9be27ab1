import {
  commit,
  encodeEvent,
  isPushback,
  LEDGER_EVENT_SCHEMA,
  type LedgerEvent,
} from '../ledger/index.js'
import type { WriteOptions } from '../meta/index.js'
import type { RequestContext } from './context.js'
import { S3Error } from './s3-error.js'

/** The fields that vary by event type; the base (schema, time, dc, actor) is filled in here. */
type EventBody = LedgerEvent extends infer E
  ? E extends LedgerEvent
    ? Omit<E, 'schema' | 'at' | 'dc' | 'actor' | 'tenant' | 'bucket'>
    : never
  : never

/**
 * Commitments to values that recur on every request (tenant id, access key, bucket name),
 * memoised per secret: an HMAC each time would be most of the cost of logging a small read.
 */
const memo = new WeakMap<Buffer, Map<string, string>>()

function committed(secret: Buffer, value: string): string {
  let values = memo.get(secret)
  if (values === undefined) {
    values = new Map()
    memo.set(secret, values)
  }
  let c = values.get(value)
  if (c === undefined) {
    if (values.size >= 4096) values.clear()
    c = commit(secret, value)
    values.set(value, c)
  }
  return c
}

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
  const tenant = committed(secret, ctx.tenant.id)
  const event = {
    schema: LEDGER_EVENT_SCHEMA,
    at: new Date(ctx.deps.now()).toISOString(),
    dc: ctx.deps.cell.dc.id,
    actor: { kind: 'tenant', tenant, accessKey: committed(secret, accessKey) },
    tenant,
    bucket: committed(secret, bucket),
    ...body,
  } as LedgerEvent
  return encodeEvent(event)
}

function slowDown(err: unknown): unknown {
  return isPushback(err) ? new S3Error('SlowDown', 'Please reduce your request rate.') : err
}

/**
 * The ledger event of a change, to pass to the metadata write that makes the change: the event
 * then commits in the same transaction (the cell's outbox), durable exactly when the change is
 * and never without it, and the cell moves it to its log in the background. A full backlog
 * answers `SlowDown` before anything is written.
 */
export async function changeEvent(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): Promise<WriteOptions> {
  if (!ctx.deps.settings.ledgerEnabled) return {}
  const cell = ctx.deps.cell
  if (cell.meta.ledgerOutboxSize() >= cell.ledger.maxPending) {
    throw new S3Error('SlowDown', 'Please reduce your request rate.')
  }
  return { events: [await buildEvent(ctx, body, bucket)] }
}

/**
 * Appends an event that goes with no metadata change (an integrity failure, a read with
 * `ledger.reads: sync`) and waits until it is durably sequenced.
 */
export async function recordNow(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): Promise<void> {
  if (!ctx.deps.settings.ledgerEnabled) return
  const entry = await buildEvent(ctx, body, bucket)
  try {
    await ctx.deps.cell.ledger.log.append(entry)
  } catch (err) {
    throw slowDown(err)
  }
}

/** How long asynchronously logged reads wait to share one durable append. */
const READ_BATCH_MS = 50

/** Read events waiting for the next batched append, per log. */
const pendingReads = new WeakMap<object, Uint8Array[]>()

function queueRead(ctx: RequestContext, entry: Uint8Array): void {
  const log = ctx.deps.cell.ledger.log
  let queue = pendingReads.get(log)
  if (queue === undefined) {
    queue = []
    pendingReads.set(log, queue)
    setTimeout(() => {
      const batch = pendingReads.get(log) ?? []
      pendingReads.delete(log)
      for (const e of batch) {
        log
          .append(e)
          .catch((err: unknown) => ctx.log.warn({ err }, 'A read event could not be logged'))
      }
    }, READ_BATCH_MS).unref()
  }
  queue.push(entry)
}

/**
 * Records a read. With `ledger.reads: async` (default) the event joins a batch appended within
 * 50 ms (well inside the one second of exposure we document) and the response does not wait;
 * with `sync` it waits like a change.
 */
export async function recordRead(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): Promise<void> {
  if (!ctx.deps.settings.ledgerEnabled) return
  if (ctx.deps.settings.ledgerReads === 'sync') {
    await recordNow(ctx, body, bucket)
    return
  }
  queueRead(ctx, await buildEvent(ctx, body, bucket))
}
