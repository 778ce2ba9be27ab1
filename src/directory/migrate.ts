import { readdirSync, readFileSync } from 'node:fs'
import type BetterSqlite3 from 'better-sqlite3'
import { DirectoryError } from './directory-error.js'

/** One numbered migration file, for example `0001-init.sql`. */
interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

/** Reads the numbered `.sql` files shipped next to this module (copied into dist/ by the build). */
export function readMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}-[a-z0-9-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file,
      sql: readFileSync(new URL(file, dir), 'utf8'),
    }))
}

/**
 * Applies missing migrations in one immediate transaction, so a server and a CLI opening the
 * same file at once cannot both apply them. Refuses a file written by a newer build.
 */
export function migrate(db: BetterSqlite3.Database, migrations = readMigrations()): void {
  const latest = migrations.at(-1)?.version ?? 0
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`)
    const applied = new Set(
      db
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
        .all()
        .map((row) => row.version),
    )
    const newest = Math.max(0, ...applied)
    if (newest > latest) {
      throw new DirectoryError(
        'UnsupportedSchemaVersion',
        `Cannot open the directory: its schema version "${newest}" is newer than this build's "${latest}"`,
      )
    }
    const insert = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    )
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      db.exec(migration.sql)
      insert.run(migration.version, migration.name, Date.now())
    }
  })
  run.immediate()
}
