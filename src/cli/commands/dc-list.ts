import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { directoryPath } from '../../directory/index.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson, renderTable } from '../output/index.js'

interface DcRow {
  readonly id: string
  readonly name: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly port: number
}

/** `sovra dc list`: the catalog from the directory, or from config before the first start. */
export function registerDcList(dc: Command, io: CliIo): void {
  dc.command('list')
    .description('list data centers (from the directory, or from config before the first start)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      let rows: DcRow[] = []
      if (existsSync(directoryPath(ctx.config.dataDir))) {
        rows = await ctx.withDirectory((directory) => directory.listDataCenters())
      }
      if (rows.length === 0) rows = [...ctx.config.dataCenters]
      const out = rows.map(({ id, name, city, jurisdiction, status, port }) => ({
        id,
        name,
        city,
        jurisdiction,
        status,
        port,
      }))
      io.stdout.write(
        options.json === true
          ? renderJson(out)
          : renderTable(
              [
                { header: 'DATA CENTER', value: (r: DcRow) => r.id },
                { header: 'NAME', value: (r) => r.name },
                { header: 'CITY', value: (r) => r.city },
                { header: 'JURISDICTION', value: (r) => r.jurisdiction },
                { header: 'STATUS', value: (r) => r.status },
                { header: 'PORT', value: (r) => (r.port === 0 ? 'any' : String(r.port)) },
              ],
              out,
            ),
      )
    })
}
