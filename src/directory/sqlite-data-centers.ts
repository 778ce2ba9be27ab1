import type Database from 'better-sqlite3'
import {
  DATA_CENTER_ID_MAX_LENGTH,
  DATA_CENTER_ID_PATTERN,
  isKnownJurisdiction,
} from '../core/index.js'
import type { LedgerActor } from '../ledger/index.js'
import type {
  DataCenterInput,
  DataCenterState,
  DataCenterTransition,
  SeedReport,
} from './directory.js'
import { DirectoryErrors } from './directory-error.js'

/** Which status each lifecycle step starts from: `planned → active → draining → retired`. */
export const DATA_CENTER_TRANSITIONS = {
  active: ['planned'],
  draining: ['active'],
  retired: ['draining'],
} as const satisfies Record<DataCenterTransition, readonly DataCenterState[]>

/** A `data_centers` row without bookkeeping columns. */
export interface DataCenterRow {
  id: string
  name: string
  city: string
  jurisdiction: string
  status: DataCenterState
  port: number
  storage_path: string | null
}

const COLUMNS = 'id, name, city, jurisdiction, status, port, storage_path'

/** Writes a catalog change's `dc.change` event into the directory's outbox. */
export type RecordCatalogChange = (
  dc: { readonly id: string; readonly jurisdiction: string; readonly status: DataCenterState },
  change: 'added' | 'status',
  actor?: LedgerActor,
) => void

/**
 * The catalog's lifecycle writes (seed, add, transition). Each runs in one immediate transaction,
 * so a check and the write it guards cannot be split by another process using the same file.
 */
export class SqliteDataCenters {
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #record: RecordCatalogChange

  /** `record` writes a `dc.change` event to the outbox inside the change's transaction. */
  constructor(db: Database.Database, now: () => number, record: RecordCatalogChange) {
    this.#db = db
    this.#now = now
    this.#record = record
  }

  seed(catalog: readonly DataCenterInput[]): SeedReport {
    const added: string[] = []
    const kept: Array<SeedReport['kept'][number]> = []
    this.#db
      .transaction(() => {
        for (const dc of catalog) {
          const row = this.#get(dc.id)
          if (row === undefined) {
            this.#insert(dc)
            this.#record(dc, 'added')
            added.push(dc.id)
            continue
          }
          for (const field of ['name', 'city', 'jurisdiction', 'status'] as const) {
            if (row[field] !== dc[field]) {
              kept.push({ id: dc.id, field, config: dc[field], directory: row[field] })
            }
          }
          // Moving a data center's files is not a configuration change: the folder it has stays.
          const storage = dc.storagePath ?? null
          if (row.storage_path !== storage) {
            kept.push({
              id: dc.id,
              field: 'storagePath',
              config: storage ?? '(default)',
              directory: row.storage_path ?? '(default)',
            })
          }
          if (row.port !== dc.port) {
            this.#db
              .prepare('UPDATE data_centers SET port = ?, updated_at = ? WHERE id = ?')
              .run(dc.port, this.#now(), dc.id)
          }
        }
      })
      .immediate()
    return { added, kept }
  }

  add(
    input: DataCenterInput,
    reservedPorts: readonly number[],
    actor?: LedgerActor,
  ): DataCenterRow {
    if (input.id.length > DATA_CENTER_ID_MAX_LENGTH || !DATA_CENTER_ID_PATTERN.test(input.id)) {
      throw DirectoryErrors.invalidArgument(
        'data center id',
        input.id,
        'expected a lower-case id such as "us-west-1" or "cn-hangzhou"',
      )
    }
    if (!isKnownJurisdiction(input.jurisdiction)) {
      throw DirectoryErrors.unknownJurisdiction(input.jurisdiction)
    }
    if (input.status !== 'planned' && input.status !== 'active') {
      throw DirectoryErrors.invalidArgument(
        'data center status',
        input.status,
        'a new data center is "planned" or "active"',
      )
    }
    if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65535) {
      throw DirectoryErrors.invalidArgument(
        'port',
        String(input.port),
        'expected an integer between 0 and 65535',
      )
    }
    return this.#db
      .transaction(() => {
        if (this.#get(input.id) !== undefined) {
          throw DirectoryErrors.dataCenterAlreadyExists(input.id)
        }
        if (input.port !== 0) {
          if (reservedPorts.includes(input.port)) {
            throw DirectoryErrors.portInUse(input.port, 'the admin API')
          }
          const owner = this.#db
            .prepare<[number], { id: string }>(
              `SELECT id FROM data_centers WHERE port = ? AND status <> 'retired'`,
            )
            .get(input.port)
          if (owner !== undefined) throw DirectoryErrors.portInUse(input.port, owner.id)
        }
        this.#insert(input)
        this.#record(input, 'added', actor)
        return this.#get(input.id) as DataCenterRow
      })
      .immediate()
  }

  transition(id: string, to: DataCenterTransition, actor?: LedgerActor): DataCenterRow {
    return this.#db
      .transaction(() => {
        const row = this.#get(id)
        if (row === undefined) throw DirectoryErrors.noSuchDataCenter(id)
        const from: readonly DataCenterState[] = DATA_CENTER_TRANSITIONS[to]
        if (!from.includes(row.status)) {
          throw DirectoryErrors.invalidStatusTransition(id, row.status, to)
        }
        if (to === 'retired') {
          const buckets = this.countBuckets(id)
          if (buckets > 0) throw DirectoryErrors.dataCenterNotEmpty(id, buckets)
        }
        this.#db
          .prepare('UPDATE data_centers SET status = ?, updated_at = ? WHERE id = ?')
          .run(to, this.#now(), id)
        this.#record({ ...row, status: to }, 'status', actor)
        return { ...row, status: to }
      })
      .immediate()
  }

  remove(id: string): void {
    this.#db
      .transaction(() => {
        if (this.#get(id) === undefined) throw DirectoryErrors.noSuchDataCenter(id)
        const row = this.#get(id) as DataCenterRow
        const buckets = this.countBuckets(id)
        if (buckets > 0) throw DirectoryErrors.dataCenterNotEmpty(id, buckets)
        this.#db.prepare('DELETE FROM data_centers WHERE id = ?').run(id)
        // The add was undone (its endpoint never started): logged as retired at once.
        this.#record({ ...row, status: 'retired' }, 'status')
      })
      .immediate()
  }

  countBuckets(dcId: string): number {
    const row = this.#db
      .prepare<[string], { count: number }>('SELECT count(*) AS count FROM buckets WHERE dc_id = ?')
      .get(dcId)
    return row?.count ?? 0
  }

  #get(id: string): DataCenterRow | undefined {
    return this.#db
      .prepare<[string], DataCenterRow>(`SELECT ${COLUMNS} FROM data_centers WHERE id = ?`)
      .get(id)
  }

  /** Appends a data center after every other in display order. */
  #insert(dc: DataCenterInput): void {
    const { next } = this.#db
      .prepare<[], { next: number }>(
        'SELECT coalesce(max(position), -1) + 1 AS next FROM data_centers',
      )
      .get() ?? { next: 0 }
    this.#db
      .prepare(
        `INSERT INTO data_centers (id, name, city, jurisdiction, status, port, storage_path,
           position, updated_at)
         VALUES (@id, @name, @city, @jurisdiction, @status, @port, @storage_path, @position,
           @updated_at)`,
      )
      .run({
        id: dc.id,
        name: dc.name,
        city: dc.city,
        jurisdiction: dc.jurisdiction,
        status: dc.status,
        port: dc.port,
        storage_path: dc.storagePath ?? null,
        position: next,
        updated_at: this.#now(),
      })
  }
}
