import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { cellFolderOf } from '../../cell/index.js'
import type { SovraConfig } from '../../config/index.js'
import { directoryPath } from '../../directory/index.js'
import { parseVerifierKey } from '../../ledger/index.js'
import {
  type AdminClientOptions,
  AdminUnreachable,
  adminOptions,
  createAdminClient,
} from '../admin-client.js'
import { type CliContext, createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { type Column, renderJson, renderTable } from '../output/index.js'

interface DcRow {
  readonly id: string
  readonly name: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly port: number
  /** Known only when the running server answered. */
  readonly endpoint?: string | null
  /** Known only from the directory file (the admin API does not publish folders). */
  readonly storagePath?: string | null
}

/** A data center's ledger identity: its checkpoint origin and verifier key (null until created). */
interface LedgerKeyInfo {
  readonly origin: string
  readonly verifierKey: string | null
}

/**
 * Reads `<data center folder>/keys/ledger.pub`, written when the data center's log is first
 * opened. The key's name is the origin; before that, the origin the configuration will give it.
 */
function ledgerKeyOf(config: SovraConfig, row: DcRow): LedgerKeyInfo {
  const dcId = row.id
  const path = join(cellFolderOf(config.dataDir, row), 'keys', 'ledger.pub')
  let verifierKey: string
  try {
    verifierKey = readFileSync(path, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const prefix = config.ledger.originPrefix ?? `${config.publicHost}/ledger`
    return { origin: `${prefix}/${dcId}`, verifierKey: null }
  }
  return { origin: parseVerifierKey(verifierKey).name, verifierKey }
}

/**
 * The catalog: from the admin API when the server answers (with each endpoint), else from the
 * directory file, else from config before the first start.
 */
async function catalogOf(
  io: CliIo,
  ctx: CliContext,
  options: AdminClientOptions,
): Promise<{ rows: DcRow[]; live: boolean }> {
  const client = createAdminClient(io, { config: ctx.config, options })
  try {
    const { dataCenters } = await client.get<{ dataCenters: DcRow[] }>('/admin/v1/data-centers')
    return { rows: dataCenters, live: true }
  } catch (err) {
    if (!(err instanceof AdminUnreachable)) throw err
    // Only an explicit --admin-url or SOVRA_ADMIN_URL makes an unreachable server an error.
    if (options.adminUrl !== undefined || (io.env.SOVRA_ADMIN_URL ?? '') !== '') throw err
  }
  let rows: DcRow[] = []
  if (existsSync(directoryPath(ctx.config.dataDir))) {
    rows = await ctx.withDirectory((directory) => directory.listDataCenters())
  }
  if (rows.length === 0) rows = [...ctx.config.dataCenters]
  return { rows, live: false }
}

/** The verifier keys the running server publishes (`/admin/v1/ledger/keys`), by data center. */
async function publishedKeys(
  io: CliIo,
  ctx: CliContext,
  options: AdminClientOptions,
): Promise<Map<string, LedgerKeyInfo>> {
  const client = createAdminClient(io, { config: ctx.config, options })
  const { ledgers } = await client.get<{
    ledgers: Array<{ dc: string; origin: string; verifierKey: string }>
  }>('/admin/v1/ledger/keys')
  return new Map(ledgers.map((l) => [l.dc, { origin: l.origin, verifierKey: l.verifierKey }]))
}

/** `sovra dc list`: the catalog from the running server, or from the local files. */
export function registerDcList(dc: Command, io: CliIo): void {
  adminOptions(
    dc
      .command('list')
      .description(
        'list data centers (from the running server; else from the directory, or config before the first start)',
      )
      .option('--json', 'print JSON')
      .option('--keys', "add each data center's ledger origin and verifier key"),
  ).action(
    async (options: AdminClientOptions & { json?: boolean; keys?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const { rows, live } = await catalogOf(io, ctx, options)
      const published =
        options.keys === true && live ? await publishedKeys(io, ctx, options) : undefined
      const keyOf = (row: DcRow) => published?.get(row.id) ?? ledgerKeyOf(ctx.config, row)
      const out = rows.map((row) => ({
        id: row.id,
        name: row.name,
        city: row.city,
        jurisdiction: row.jurisdiction,
        status: row.status,
        port: row.port,
        ...(live ? { endpoint: row.endpoint ?? null } : {}),
        ...(options.keys === true ? { ledger: keyOf(row) } : {}),
      }))
      if (options.keys === true && options.json !== true) {
        io.stdout.write(
          renderTable(
            [
              { header: 'DATA CENTER', value: (r: (typeof out)[number]) => r.id },
              { header: 'STATUS', value: (r) => r.status },
              { header: 'LEDGER ORIGIN', value: (r) => r.ledger?.origin ?? '-' },
              {
                header: 'VERIFIER KEY',
                value: (r) => r.ledger?.verifierKey ?? 'not created yet',
              },
            ],
            out,
          ),
        )
        return
      }
      const columns: Column<(typeof out)[number]>[] = [
        { header: 'DATA CENTER', value: (r) => r.id },
        { header: 'NAME', value: (r) => r.name },
        { header: 'CITY', value: (r) => r.city },
        { header: 'JURISDICTION', value: (r) => r.jurisdiction },
        { header: 'STATUS', value: (r) => r.status },
        { header: 'PORT', value: (r) => (r.port === 0 ? 'any' : String(r.port)) },
      ]
      if (live) columns.push({ header: 'ENDPOINT', value: (r) => r.endpoint ?? '-' })
      io.stdout.write(options.json === true ? renderJson(out) : renderTable(columns, out))
    },
  )
}
