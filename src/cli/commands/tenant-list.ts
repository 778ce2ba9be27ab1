import type { Command } from 'commander'
import type { TenantRecord } from '../../directory/index.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { formatTime, renderJson, renderTable } from '../output/index.js'

/** `sovra tenant list`. */
export function registerTenantList(tenant: Command, io: CliIo): void {
  tenant
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const tenants = await ctx.withDirectory((directory) => directory.listTenants())
      io.stdout.write(
        options.json === true
          ? renderJson(tenants)
          : renderTable(
              [
                { header: 'TENANT ID', value: (t: TenantRecord) => t.id },
                { header: 'NAME', value: (t) => t.name },
                { header: 'ADMIN', value: (t) => (t.admin ? 'yes' : 'no') },
                { header: 'CREATED', value: (t) => formatTime(t.createdAt) },
              ],
              tenants,
            ),
      )
    })
}
