import { isKeyError, type KeyError } from '../keys/index.js'
import { commitment, recordNow } from './audit.js'
import type { RequestContext } from './context.js'

/** The refusals of a customer key service or the key registry that are recorded. */
const REFUSALS = ['KeyDisabled', 'KeyNotFound', 'KeyAccessDenied'] as const

/** Operations that unwrap an existing data key (the rest that reach a key wrap a new one). */
const UNWRAPPING = new Set(['GetObject', 'CopyObject', 'UploadPartCopy'])

/** A customer key refused access: revoked, unknown, or the key service said no. */
export function isKeyRefusal(err: unknown): err is KeyError {
  return REFUSALS.some((code) => isKeyError(err, code))
}

/**
 * Tells the operator and the ledger that a customer key refused an object operation: one `warn`
 * log line (no token, no key material: the error's message and the KMS key's id only) and an
 * `object.key-refused` event. The client gets the KMS-style error from the caller's error path.
 * A failure to log is itself logged and never hides the original error.
 */
export async function reportKeyRefusal(ctx: RequestContext, err: KeyError): Promise<void> {
  const bucket = ctx.s3.bucket as string
  const key = ctx.s3.key ?? ''
  const refusal = err.code as (typeof REFUSALS)[number]
  const operation = UNWRAPPING.has(ctx.s3.op) ? 'unwrap' : 'wrap'
  ctx.log.warn(
    {
      dc: ctx.deps.cell.dc.id,
      bucket,
      key,
      refusal,
      operation,
      kmsKey: err.details.key,
      reason: err.message,
    },
    'A customer key refused access; nothing was read or written',
  )
  try {
    await recordNow(ctx, {
      type: 'object.key-refused',
      key: await commitment(ctx, key),
      refusal,
      operation,
    })
  } catch (logErr) {
    ctx.log.error({ err: logErr }, 'Could not record the key refusal in the ledger')
  }
}
