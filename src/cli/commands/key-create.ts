import type { Command } from 'commander'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

interface KeyCreateOptions {
  tenant: string
  accessKey?: string
  secretKey?: string
  json?: boolean
}

/** `sovra key create --tenant <name|id> [--access-key <id> --secret-key <secret>]`. */
export function registerKeyCreate(key: Command, io: CliIo): void {
  key
    .command('create')
    .description('create an access key, or import one with --access-key and --secret-key')
    .requiredOption('--tenant <name|id>', 'tenant that owns the key')
    .option('--access-key <id>', 'import this access key id (needs --secret-key)')
    .option('--secret-key <secret>', 'secret of the imported key (needs --access-key)')
    .option('--json', 'print JSON')
    .action(async (options: KeyCreateOptions, command: Command) => {
      if ((options.accessKey === undefined) !== (options.secretKey === undefined)) {
        command.error('--access-key and --secret-key must be given together', { exitCode: 2 })
      }
      const ctx = createContext(io, command)
      const created = await ctx.withDirectory(async (directory) => {
        const made = await directory.createAccessKey(options.tenant, {
          ...(options.accessKey === undefined ? {} : { accessKeyId: options.accessKey }),
          ...(options.secretKey === undefined ? {} : { secretAccessKey: options.secretKey }),
        })
        const owner = await directory.getTenant(made.tenantId)
        return { ...made, tenantName: owner?.name ?? made.tenantId }
      })
      if (options.json === true) {
        io.stdout.write(renderJson(created))
      } else {
        io.stdout.write(
          `Tenant:            ${created.tenantName} (${created.tenantId})\n` +
            `Access key id:     ${created.accessKeyId}\n` +
            `Secret access key: ${created.secretAccessKey}\n`,
        )
      }
      io.stderr.write('Store the secret access key now: it cannot be shown again.\n')
    })
}
