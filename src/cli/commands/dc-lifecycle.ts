import type { Command } from 'commander'
import {
  type AdminClientOptions,
  type AdminDataCenter,
  adminOptions,
  createAdminClient,
} from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

const STEPS = [
  ['activate', 'planned → active: the data center takes new buckets'],
  ['drain', 'active → draining: refuse new buckets there; existing ones keep working'],
  ['retire', 'draining → retired: stop serving it (refused while it still holds buckets)'],
] as const

/** `sovra dc activate|drain|retire <id>`: one lifecycle step on the running server. */
export function registerDcLifecycle(dc: Command, io: CliIo): void {
  for (const [step, description] of STEPS) {
    adminOptions(
      dc.command(`${step} <id>`).description(description).option('--json', 'print JSON'),
    ).action(
      async (id: string, options: AdminClientOptions & { json?: boolean }, command: Command) => {
        const ctx = createContext(io, command)
        const client = createAdminClient(io, { config: ctx.config, options })
        const dc = await client.post<AdminDataCenter>(
          `/admin/v1/data-centers/${encodeURIComponent(id)}/${step}`,
        )
        io.stdout.write(
          options.json === true ? renderJson(dc) : `Data center "${dc.id}" is now ${dc.status}\n`,
        )
      },
    )
  }
}
