import type { Command } from 'commander'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

/** `sovra key revoke <accessKeyId>`: takes effect on a running server within a second. */
export function registerKeyRevoke(key: Command, io: CliIo): void {
  key
    .command('revoke')
    .description(
      'revoke an access key (kept for audit; a running server stops accepting it within a second)',
    )
    .argument('<accessKeyId>', 'the access key id')
    .option('--json', 'print JSON')
    .action(async (accessKeyId: string, options: { json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const revoked = await ctx.withDirectory((directory) => directory.revokeAccessKey(accessKeyId))
      io.stdout.write(
        options.json === true
          ? renderJson(revoked)
          : `Revoked access key "${revoked.accessKeyId}"\n`,
      )
    })
}
