import { isKeyError, type KeyError } from '../keys/index.js'
import { commitment, recordNow } from './audit.js'
import type { RequestContext } from './context.js'

/** A stored object failed authentication: its bytes or its wrapped data key were tampered with. */
export function isIntegrityFailure(err: unknown): err is KeyError {
  return isKeyError(err, 'IntegrityFailure') || isKeyError(err, 'InvalidWrappedKey')
}

/**
 * Tells the operator and the ledger that stored bytes failed their check: an `error` log line
 * naming dc, bucket, key, part and segment, and an `object.integrity-failure` event. The client
 * gets `InternalError` (or a cut connection once the body started) from the caller's error path.
 * A failure to log is itself logged and never hides the original error.
 */
export async function reportIntegrityFailure(ctx: RequestContext, err: KeyError): Promise<void> {
  const d = err.details
  const bucket = d.bucket ?? (ctx.s3.bucket as string)
  const key = d.key ?? ctx.s3.key ?? ''
  ctx.log.error(
    {
      dc: d.dc ?? ctx.deps.cell.dc.id,
      bucket,
      key,
      part: d.part,
      segment: d.segment,
      failure: err.code,
      reason: d.reason ?? err.message,
    },
    'Stored object failed its integrity check; nothing of it was served',
  )
  try {
    const part = d.part === undefined ? undefined : Number(d.part)
    const segment = d.segment === undefined ? undefined : Number(d.segment)
    await recordNow(
      ctx,
      {
        type: 'object.integrity-failure',
        key: await commitment(ctx, key),
        failure: err.code === 'InvalidWrappedKey' ? 'InvalidWrappedKey' : 'IntegrityFailure',
        ...(part === undefined ? {} : { part }),
        ...(segment === undefined ? {} : { segment }),
      },
      bucket,
    )
  } catch (logErr) {
    ctx.log.error({ err: logErr }, 'Could not record the integrity failure in the ledger')
  }
}
