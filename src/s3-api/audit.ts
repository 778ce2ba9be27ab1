import { ledgerReceipt } from '../cell/index.js'
import { canonicalize } from '../core/index.js'
import type { ReceiptSource } from '../keys/index.js'
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

/** Commitments remembered at most (all tenants together); the memo is emptied when full. */
export const COMMITMENT_MEMO_ENTRIES = 8192

/** Longer values (a policy's canonical JSON) are committed each time, never remembered. */
const MEMO_MAX_VALUE = 1024

/** Remembered commitments, by secret (a Buffer the directory holds for its tenant) and value. */
let memo = new WeakMap<Buffer, Map<string, string>>()
let memoEntries = 0

/**
 * `commit(secret, value)`, remembered: the values of a request's event recur (tenant id, access
 * key, bucket name, and the object keys that reads return to), and an HMAC each time was most of
 * the cost of logging a small read. A commitment is a pure function of secret and value, so a
 * remembered one is exactly what a new HMAC gives. Bounded in number and in value length.
 */
export function memoizedCommit(secret: Buffer, value: string): string {
  if (value.length > MEMO_MAX_VALUE) return commit(secret, value)
  let values = memo.get(secret)
  let c = values?.get(value)
  if (c !== undefined) return c
  c = commit(secret, value)
  if (memoEntries >= COMMITMENT_MEMO_ENTRIES) {
    memo = new WeakMap()
    memoEntries = 0
    values = undefined
  }
  if (values === undefined) {
    values = new Map()
    memo.set(secret, values)
  }
  values.set(value, c)
  memoEntries++
  return c
}

/** Commits a customer value (key, bucket, prefix…) with the bucket owner's ledger secret. */
export async function commitment(ctx: RequestContext, value: string): Promise<string> {
  return memoizedCommit(await ctx.deps.directory.ledgerSecretOf(ctx.tenant.id), value)
}

async function buildEvent(
  ctx: RequestContext,
  body: EventBody,
  bucket: string,
): Promise<Uint8Array> {
  // Committed with the bucket owner's secret, so the owner recognises every access to its bucket;
  // the actor is whoever sent the request (the owner, another tenant, or `anonymous`).
  const secret = await ctx.deps.directory.ledgerSecretOf(ctx.tenant.id)
  const accessKey = ctx.auth.kind === 'signed' ? ctx.auth.accessKeyId : 'anonymous'
  const actor = ctx.requester.kind === 'tenant' ? ctx.requester.tenant.id : 'anonymous'
  const tenant = memoizedCommit(secret, ctx.tenant.id)
  const event = {
    schema: LEDGER_EVENT_SCHEMA,
    at: new Date(ctx.deps.now()).toISOString(),
    dc: ctx.deps.cell.dc.id,
    actor: {
      kind: 'tenant',
      tenant: actor === ctx.tenant.id ? tenant : memoizedCommit(secret, actor),
      accessKey: memoizedCommit(secret, accessKey),
    },
    tenant,
    bucket: memoizedCommit(secret, bucket),
    ...body,
  } as LedgerEvent
  return encodeEvent(event)
}

function slowDown(err: unknown): unknown {
  return isPushback(err) ? new S3Error('SlowDown', 'Please reduce your request rate.') : err
}

/**
 * The `bucket.config` event of a bucket setting set to `config`: the log holds a commitment to
 * the setting's canonical JSON, never the setting itself.
 */
export async function configSetEvent(
  ctx: RequestContext,
  setting: Extract<LedgerEvent, { type: 'bucket.config' }>['setting'],
  config: unknown,
): Promise<WriteOptions> {
  const committed = await commitment(ctx, canonicalize(config))
  return changeEvent(ctx, { type: 'bucket.config', setting, config: committed })
}

/** The `bucket.config` event of a bucket setting removed (no `config` commitment). */
export function configRemovedEvent(
  ctx: RequestContext,
  setting: Extract<LedgerEvent, { type: 'bucket.config' }>['setting'],
): Promise<WriteOptions> {
  return changeEvent(ctx, { type: 'bucket.config', setting })
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
 * `ledger.reads: sync`) and waits until it is durably sequenced. Returns its entry index
 * (undefined with the ledger off).
 */
export async function recordNow(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): Promise<number | undefined> {
  if (!ctx.deps.settings.ledgerEnabled) return undefined
  const entry = await buildEvent(ctx, body, bucket)
  try {
    return (await ctx.deps.cell.ledger.log.append(entry)).index
  } catch (err) {
    throw slowDown(err)
  }
}

/** The access event of one read, for log-before-decrypt. */
export interface ReadAccess {
  /**
   * Makes the read's access event durable in the data center's log now, waits for it to be in
   * a published checkpoint and returns its receipt (once; later calls share the first). Pass it
   * as `ReadKeys.receipt`: it runs only when a customer key service must unwrap a data key.
   */
  readonly receipt: ReceiptSource
  /** True once `receipt` logged the event (the caller must then not log it again). */
  logged(): boolean
}

/**
 * The seam of log-before-decrypt on the read path. A read hands `receipt` to the decrypting
 * read; only a data key that no cache holds and a customer key service must unwrap calls it, and
 * the read's event is then appended synchronously before the unwrap. Otherwise (warm DEK cache,
 * `dc` and SSE-C keys) nothing happens here and the caller logs the read as always
 * (`recordRead`, batched), so warm reads stay asynchronous.
 */
export function readAccess(
  ctx: RequestContext,
  body: EventBody,
  bucket = ctx.s3.bucket as string,
): ReadAccess {
  let pending: Promise<string | undefined> | undefined
  return {
    receipt: () => {
      pending ??= (async () => {
        const index = await recordNow(ctx, body, bucket)
        return index === undefined ? undefined : ledgerReceipt(ctx.deps.cell.ledger, index)
      })()
      return pending
    },
    logged: () => pending !== undefined,
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
