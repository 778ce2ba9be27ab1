import { scheduledExpiration } from '../cell/index.js'
import type { ObjectRecord } from '../meta/index.js'
import type { RequestContext } from './context.js'
import { httpDate } from './object-headers.js'

/**
 * `x-amz-expiration` of a current version, as S3 sends it on GET, HEAD, PUT, CopyObject and
 * CompleteMultipartUpload: when the bucket's lifecycle rules will expire the object and by which
 * rule (`expiry-date="Fri, 23 Dec 2030 00:00:00 GMT", rule-id="logs"`). Nothing when no enabled
 * `Expiration` rule matches it (or the bucket has no lifecycle configuration).
 */
export async function expirationHeaders(
  ctx: RequestContext,
  record: Pick<ObjectRecord, 'bucket' | 'key' | 'size' | 'tags' | 'lastModified'>,
): Promise<Record<string, string>> {
  const config = await ctx.deps.cell.meta.getBucketLifecycle(record.bucket)
  if (config === null) return {}
  const due = scheduledExpiration(
    config.rules,
    {
      key: record.key,
      size: record.size,
      tags: record.tags ?? [],
      lastModified: record.lastModified,
    },
    ctx.deps.cell.lifecycle.dayMs,
  )
  if (due === null) return {}
  return {
    'x-amz-expiration': `expiry-date="${httpDate(due.at)}", rule-id="${headerSafe(due.ruleId)}"`,
  }
}

/** A rule ID inside a quoted header value: quotes and backslashes escaped, anything outside printable ASCII percent-encoded. */
function headerSafe(id: string): string {
  return id
    .replace(/["\\]/g, (c) => `\\${c}`)
    .replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c))
}
