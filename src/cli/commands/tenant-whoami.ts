import type { Command } from 'commander'
import { type AdminClientOptions, adminOptions, createAdminClient } from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

/** The calling tenant as `GET /admin/v1/tenant` answers it. */
interface CallingTenant {
  readonly id: string
  readonly name: string
  readonly canonicalId: string
  readonly accessKeyId: string
}

/** `sovra tenant whoami`: which tenant the S3 credentials in the environment belong to. */
export function registerTenantWhoami(tenant: Command, io: CliIo): void {
  adminOptions(
    tenant
      .command('whoami')
      .description(
        'show the tenant that AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY belong to (asks the admin API, signed with them)',
      )
      .option('--json', 'print JSON'),
  ).action(async (options: AdminClientOptions & { json?: boolean }, command: Command) => {
    const ctx = createContext(io, command)
    const client = createAdminClient(io, { config: ctx.config, options })
    const me = await client.asTenant<CallingTenant>('GET', '/admin/v1/tenant')
    io.stdout.write(
      options.json === true
        ? renderJson(me)
        : `Tenant ${me.name} (${me.id}), signed with access key ${me.accessKeyId}\n`,
    )
  })
}
