import type Database from 'better-sqlite3'
import type { TransferCounts, TransferObjectProgress } from '../meta-store.js'

/**
 * The transfer gate's per-object progress in a cell's database (migration 0005): plain
 * synchronous steps the store runs inside its own reads and group-committed writes.
 */
export interface TransferProgressTable {
  get(transferId: string, key: string): TransferObjectProgress | null
  /** Upserts one object's state; on its first `done` or `missing`, bumps the counters. */
  record(transferId: string, object: TransferObjectProgress): TransferCounts
  counts(transferId: string): TransferCounts
  /** Rows in `state`, in key order, after `after` (exclusive). */
  list(
    transferId: string,
    state: TransferObjectProgress['state'],
    after: string,
    limit: number,
  ): TransferObjectProgress[]
  /** Drops every row of the transfer. */
  forget(transferId: string): void
}

const NONE: TransferCounts = { objectsDone: 0, bytesDone: 0, objectsMissing: 0 }

export function prepareTransferProgress(db: Database.Database): TransferProgressTable {
  const get = db.prepare<[string, string], TransferObjectProgress>(
    'SELECT key, state, size, etag FROM transfer_objects WHERE transfer_id = ? AND key = ?',
  )
  const upsert = db.prepare<[string, string, string, number, string]>(
    `INSERT INTO transfer_objects (transfer_id, key, state, size, etag) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (transfer_id, key) DO UPDATE SET state = excluded.state, size = excluded.size,
       etag = excluded.etag`,
  )
  const bump = db.prepare<[{ id: string; done: number; bytes: number; missing: number }]>(
    `INSERT INTO transfer_progress (transfer_id, objects_done, bytes_done, objects_missing)
     VALUES (@id, @done, @bytes, @missing)
     ON CONFLICT (transfer_id) DO UPDATE SET objects_done = objects_done + @done,
       bytes_done = bytes_done + @bytes, objects_missing = objects_missing + @missing`,
  )
  const counts = db.prepare<[string], TransferCounts>(
    `SELECT objects_done AS objectsDone, bytes_done AS bytesDone,
       objects_missing AS objectsMissing FROM transfer_progress WHERE transfer_id = ?`,
  )
  const list = db.prepare<[string, string, string, number], TransferObjectProgress>(
    `SELECT key, state, size, etag FROM transfer_objects
     WHERE transfer_id = ? AND state = ? AND key > ? ORDER BY key LIMIT ?`,
  )
  const forgetObjects = db.prepare<[string]>('DELETE FROM transfer_objects WHERE transfer_id = ?')
  const forgetCounts = db.prepare<[string]>('DELETE FROM transfer_progress WHERE transfer_id = ?')
  const countsOf = (transferId: string) => counts.get(transferId) ?? NONE
  return {
    get: (transferId, key) => get.get(transferId, key) ?? null,
    record(transferId, object) {
      const before = get.get(transferId, object.key)?.state
      upsert.run(transferId, object.key, object.state, object.size, object.etag)
      const finishedBefore = before === 'done' || before === 'missing'
      if (!finishedBefore && object.state === 'done') {
        bump.run({ id: transferId, done: 1, bytes: object.size, missing: 0 })
      }
      if (!finishedBefore && object.state === 'missing') {
        bump.run({ id: transferId, done: 0, bytes: 0, missing: 1 })
      }
      return countsOf(transferId)
    },
    counts: countsOf,
    list: (transferId, state, after, limit) => list.all(transferId, state, after, limit),
    forget(transferId) {
      forgetObjects.run(transferId)
      forgetCounts.run(transferId)
    },
  }
}
