import type { Command } from 'commander'
import type { AccessKeyRecord } from '../../directory/index.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { formatTime, renderJson, renderTable } from '../output/index.js'

/** `sovra key list [--tenant <name|id>]` (never shows secrets). */
export function registerKeyList(key: Command, io: CliIo): void {
  key
    .command('list')
    .description('list access keys (without secrets)')
    .option('--tenant <name|id>', 'only the keys of this tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant?: string; json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const { keys, names } = await ctx.withDirectory(async (directory) => ({
        keys: await directory.listAccessKeys(options.tenant),
        names: new Map((await directory.listTenants()).map((t) => [t.id, t.name])),
      }))
      const rows = keys.map((k) => ({ ...k, tenantName: names.get(k.tenantId) ?? k.tenantId }))
      io.stdout.write(
        options.json === true
          ? renderJson(rows)
          : renderTable(
              [
                { header: 'ACCESS KEY ID', value: (k: AccessKeyRecord) => k.accessKeyId },
                { header: 'TENANT', value: (k) => names.get(k.tenantId) ?? k.tenantId },
                { header: 'STATUS', value: (k) => k.status },
                { header: 'CREATED', value: (k) => formatTime(k.createdAt) },
                { header: 'REVOKED', value: (k) => formatTime(k.revokedAt) },
              ],
              rows,
            ),
      )
    })
}
