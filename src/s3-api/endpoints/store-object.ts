import type { ObjectData, ObjectRecord, WriteCondition, WriteOptions } from '../../meta/index.js'
import type { RequestContext } from '../context.js'
import { unquoteEtag } from '../object-headers.js'
import type { Received } from '../object-writer.js'
import { S3Error } from '../s3-error.js'

/** Conditional-write headers (If-None-Match: *, If-Match), checked atomically by the metadata store. */
export function writeConditionOf(ctx: RequestContext): WriteCondition | undefined {
  const ifNoneMatch = ctx.req.headers['if-none-match']
  const ifMatch = ctx.req.headers['if-match']
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error(
      'NotImplemented',
      'A header you provided implies functionality that is not implemented: "If-None-Match" other than "*"',
    )
  }
  return {
    ...(ifNoneMatch === undefined ? {} : { ifNoneMatch: '*' as const }),
    ...(ifMatch === undefined
      ? {}
      : { ifMatch: ifMatch.trim() === '*' ? '*' : unquoteEtag(ifMatch) }),
  }
}

/** Makes received bytes durable and part of an object: blob rename, then the metadata commit, then old blobs go. */
export async function commitObject(
  ctx: RequestContext,
  received: Received,
  record: Omit<ObjectRecord, 'data' | 'size'>,
  condition?: WriteCondition,
  options?: WriteOptions,
): Promise<ObjectRecord> {
  let data: ObjectData
  const { wrappedKey } = received.data
  if (received.data.kind === 'inline') {
    data = { kind: 'inline', bytes: received.data.bytes, wrappedKey }
  } else {
    await received.data.pending.commit()
    data = {
      kind: 'blobs',
      parts: [{ ref: received.data.pending.ref, size: received.size, wrappedKey }],
    }
  }
  const full: ObjectRecord = { ...record, size: received.size, data }
  try {
    const { orphaned } = await ctx.deps.cell.meta.putObject(full, condition, options)
    await removeBlobs(
      ctx,
      orphaned.map((p) => p.ref),
    )
  } catch (err) {
    if (data.kind === 'blobs')
      await removeBlobs(
        ctx,
        data.parts.map((p) => p.ref),
      )
    throw err
  }
  return full
}

/** Removes blobs no longer referenced; a failure only leaves orphans for the startup sweep. */
export async function removeBlobs(ctx: RequestContext, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return
  try {
    await ctx.deps.cell.blob.remove(refs)
  } catch (err) {
    ctx.log.warn(
      { err, count: refs.length },
      'Could not remove unreferenced blobs; the startup sweep will',
    )
  }
}
