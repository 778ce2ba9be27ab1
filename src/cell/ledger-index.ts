import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import type { Logger } from '../core/index.js'
import {
  type Commitment,
  decodeEvent,
  type LedgerStorage,
  readBundleEntries,
  TILE_WIDTH,
  type TransparencyLog,
} from '../ledger/index.js'

/** What a tenant asks of its own events. */
export interface EventQuery {
  /** Commitment to the tenant id (events whose `tenant` field equals it). */
  readonly tenant: Commitment
  /** Commitment to a bucket name: only that bucket's events. */
  readonly bucket?: Commitment
  /** Only events of this type. */
  readonly type?: string
  /** Only events at or after this RFC 3339 time (`at` field). */
  readonly from?: string
  /** Only events before this RFC 3339 time. */
  readonly to?: string
  /** Only entries after this leaf index (paging). */
  readonly after?: number
  /** Only entries of the tree of this size (the named checkpoint): index < size. */
  readonly treeSize: number
  readonly limit: number
}

/** One found event: its leaf index and the exact entry bytes. */
export interface IndexedEntry {
  readonly index: number
  readonly entry: Uint8Array
}

/**
 * A per-log index of events by tenant commitment, so a tenant's events are found without
 * scanning the whole log. Derived from the integrated log only and rebuilt from it when missing
 * or damaged, so it needs no fsync of its own.
 */
export interface LedgerEventIndex {
  /** Indexes every integrated entry not indexed yet. */
  catchUp(): Promise<void>
  /** The matching events in index order, after catching up to `query.treeSize`. */
  find(query: EventQuery): Promise<IndexedEntry[]>
  close(): void
}

interface Row {
  idx: number
  tenant: string
  bucket: string | null
  type: string
  at: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  idx INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  bucket TEXT,
  type TEXT NOT NULL,
  at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant, idx);
CREATE TABLE IF NOT EXISTS indexed (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL) STRICT;
INSERT OR IGNORE INTO indexed (id, size) VALUES (1, 0);
`

function openDb(path: string): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  // Rebuildable from the log: a lost tail is re-indexed at the next catch-up.
  db.pragma('synchronous = OFF')
  db.exec(SCHEMA)
  return db
}

/** Opens (or rebuilds) the event index of a log at `path`. */
export function openLedgerIndex(
  path: string,
  ledger: { readonly log: TransparencyLog; readonly storage: LedgerStorage },
  logger: Logger,
): LedgerEventIndex {
  let db: Database.Database
  try {
    db = openDb(path)
  } catch (err) {
    logger.warn({ err, path }, 'The ledger event index is unreadable; rebuilding it from the log')
    rmSync(path, { force: true })
    rmSync(`${path}-wal`, { force: true })
    rmSync(`${path}-shm`, { force: true })
    db = openDb(path)
  }
  const indexedSize = db.prepare<[], { size: number }>('SELECT size FROM indexed WHERE id = 1')
  const insert = db.prepare<[Row], void>(
    'INSERT OR REPLACE INTO events (idx, tenant, bucket, type, at) VALUES (@idx, @tenant, @bucket, @type, @at)',
  )
  const setSize = db.prepare<[number], void>('UPDATE indexed SET size = ? WHERE id = 1')
  const addBundle = db.transaction((rows: Row[], size: number) => {
    for (const row of rows) insert.run(row)
    setSize.run(size)
  })
  let catching: Promise<void> | undefined

  const catchUpOnce = async (): Promise<void> => {
    const target = Number(ledger.log.checkpoint().checkpoint.size)
    let size = indexedSize.get()?.size ?? 0
    while (size < target) {
      const bundle = Math.floor(size / TILE_WIDTH)
      const width = Math.min(TILE_WIDTH, target - bundle * TILE_WIDTH)
      const entries = await readBundleEntries(ledger.storage, bundle, width)
      if (entries === undefined)
        throw new Error(`entry bundle ${bundle} (width ${width}) is missing`)
      const rows: Row[] = []
      for (let i = size - bundle * TILE_WIDTH; i < entries.length; i++) {
        let event: Record<string, unknown>
        try {
          event = decodeEvent(entries[i] as Uint8Array) as unknown as Record<string, unknown>
        } catch {
          continue // not an event this version reads: nobody's
        }
        if (typeof event.tenant !== 'string') continue
        rows.push({
          idx: bundle * TILE_WIDTH + i,
          tenant: event.tenant,
          bucket: typeof event.bucket === 'string' ? event.bucket : null,
          type: String(event.type),
          at: String(event.at),
        })
      }
      size = bundle * TILE_WIDTH + entries.length
      addBundle(rows, size)
    }
  }

  const index: LedgerEventIndex = {
    catchUp() {
      catching ??= catchUpOnce().finally(() => {
        catching = undefined
      })
      return catching
    },
    async find(query) {
      await index.catchUp()
      const where = ['tenant = ?', 'idx > ?', 'idx < ?']
      const params: (string | number)[] = [query.tenant, query.after ?? -1, query.treeSize]
      if (query.bucket !== undefined) {
        where.push('bucket = ?')
        params.push(query.bucket)
      }
      if (query.type !== undefined) {
        where.push('type = ?')
        params.push(query.type)
      }
      if (query.from !== undefined) {
        where.push('at >= ?')
        params.push(query.from)
      }
      if (query.to !== undefined) {
        where.push('at < ?')
        params.push(query.to)
      }
      params.push(query.limit)
      const rows = db
        .prepare<(string | number)[], { idx: number }>(
          `SELECT idx FROM events WHERE ${where.join(' AND ')} ORDER BY idx LIMIT ?`,
        )
        .all(...params)
      const found: IndexedEntry[] = []
      for (const { idx } of rows) {
        found.push({ index: idx, entry: await ledger.log.readEntry(idx) })
      }
      return found
    },
    close() {
      if (db.open) db.close()
    },
  }
  return index
}
