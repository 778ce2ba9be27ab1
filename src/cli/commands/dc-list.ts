import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { cellDir } from '../../cell/index.js'
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
}

/** A data center's ledger identity: its checkpoint origin and verifier key (null until created). */
interface LedgerKeyInfo {
  readonly origin: string
  readonly verifierKey: string | null
}

/**
 * Reads `<dataDir>/dcs/<dc>/keys/ledger.pub`, written when the data center's log is first
 * opened. The key's name is the origin; before that, the origin the configuration will give it.
 */
function ledgerKeyOf(config: SovraConfig, dcId: string): LedgerKeyInfo {
  const path = join(cellDir(config.dataDir, dcId), 'keys', 'ledger.pub')
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
      const out = rows.map(({ id, name, city, jurisdiction, status, port, endpoint }) => ({
        id,
        name,
        city,
        jurisdiction,
        status,
        port,
        ...(live ? { endpoint: endpoint ?? null } : {}),
        ...(options.keys === true ? { ledger: ledgerKeyOf(ctx.config, id) } : {}),
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
