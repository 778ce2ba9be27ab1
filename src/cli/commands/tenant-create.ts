import type { Command } from 'commander'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { formatTime, renderJson, renderTable } from '../output/index.js'

/** `sovra tenant create <name>`. */
export function registerTenantCreate(tenant: Command, io: CliIo): void {
  tenant
    .command('create')
    .description('create a tenant (customer account)')
    .argument('<name>', 'unique name: 2-63 characters of a-z, 0-9 and "-"')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const created = await ctx.withDirectory((directory) => directory.createTenant({ name }))
      io.stdout.write(
        options.json === true
          ? renderJson(created)
          : renderTable(
              [
                { header: 'TENANT ID', value: (t: typeof created) => t.id },
                { header: 'NAME', value: (t) => t.name },
                { header: 'CANONICAL ID', value: (t) => t.canonicalId },
                { header: 'CREATED', value: (t) => formatTime(t.createdAt) },
              ],
              [created],
            ),
      )
    })
}
