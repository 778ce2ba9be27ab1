import type Database from 'better-sqlite3'
import type { LifecycleConfiguration, LifecycleObjectFacts, LifecycleTag } from '../lifecycle.js'

/**
 * Bucket lifecycle configurations (migration 0007, table `bucket_lifecycle`) and the narrow
 * object scan the lifecycle worker pages through: plain synchronous steps the store runs inside
 * its own reads and group-committed writes.
 */
export interface LifecycleTable {
  get(bucket: string): LifecycleConfiguration | null
  /** Replaces the bucket's configuration, or removes it with null. */
  set(bucket: string, config: LifecycleConfiguration | null): void
  /** Names of buckets that have a configuration, in byte order, after `after` (exclusive). */
  buckets(after: string, limit: number): string[]
  /**
   * Objects of `bucket` whose key starts with `prefix`, in key order after `after` (exclusive, a
   * key an earlier page returned); fewer than `limit` means the prefix has no more.
   */
  scan(bucket: string, prefix: string, after: string | null, limit: number): LifecycleObjectFacts[]
}

interface FactsRow {
  key: string
  size: number
  etag: string
  last_modified: number
  tags: string | null
}

export function prepareLifecycle(db: Database.Database): LifecycleTable {
  const get = db.prepare<[string], { config: string }>(
    'SELECT config FROM bucket_lifecycle WHERE bucket = ?',
  )
  const upsert = db.prepare<[string, string]>(
    `INSERT INTO bucket_lifecycle (bucket, config) VALUES (?, ?)
     ON CONFLICT (bucket) DO UPDATE SET config = excluded.config`,
  )
  const remove = db.prepare<[string]>('DELETE FROM bucket_lifecycle WHERE bucket = ?')
  const buckets = db.prepare<[string, number], { bucket: string }>(
    'SELECT bucket FROM bucket_lifecycle WHERE bucket > ? ORDER BY bucket LIMIT ?',
  )
  const scanFrom = db.prepare<[string, string, number], FactsRow>(
    `SELECT key, size, etag, last_modified, tags FROM objects
     WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`,
  )
  const scanAfter = db.prepare<[string, string, number], FactsRow>(
    `SELECT key, size, etag, last_modified, tags FROM objects
     WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?`,
  )
  return {
    get(bucket) {
      const row = get.get(bucket)
      return row === undefined ? null : (JSON.parse(row.config) as LifecycleConfiguration)
    },
    set(bucket, config) {
      if (config === null) remove.run(bucket)
      else upsert.run(bucket, JSON.stringify(config))
    },
    buckets: (after, limit) => buckets.all(after, limit).map((r) => r.bucket),
    scan(bucket, prefix, after, limit) {
      // Keys in byte order: once one does not start with the prefix, none after it does.
      // `after` is a key an earlier page returned, so it starts with `prefix`.
      const rows =
        after === null ? scanFrom.all(bucket, prefix, limit) : scanAfter.all(bucket, after, limit)
      const out: LifecycleObjectFacts[] = []
      for (const row of rows) {
        if (!row.key.startsWith(prefix)) break
        out.push({
          key: row.key,
          size: row.size,
          etag: row.etag,
          lastModified: row.last_modified,
          tags: row.tags === null ? [] : (JSON.parse(row.tags) as LifecycleTag[]),
        })
      }
      return out
    },
  }
}
