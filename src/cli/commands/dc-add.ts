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

interface AddOptions extends AdminClientOptions {
  readonly city: string
  readonly jurisdiction: string
  readonly port: string
  readonly name?: string
  readonly planned?: boolean
  readonly storage?: string
  readonly json?: boolean
}

/** `sovra dc add <id>`: adds a data center to the running server; it serves at once. */
export function registerDcAdd(dc: Command, io: CliIo): void {
  adminOptions(
    dc
      .command('add <id>')
      .description('add a data center to the running server; it starts serving at once')
      .requiredOption('--city <city>', 'city it is in')
      .requiredOption('--jurisdiction <code>', 'ISO 3166-1 alpha-2 code of its law, e.g. CH')
      .requiredOption('--port <port>', 'S3 endpoint port (0 = any free port at each start)')
      .option('--name <name>', 'display name (default: the city)')
      .option('--planned', 'add it as planned: it listens but refuses new buckets until activated')
      .option(
        '--storage <dir>',
        'absolute folder on the server for its files, e.g. a volume of its own (new or empty; default: <dataDir>/dcs/<id>)',
      )
      .option('--json', 'print JSON'),
  ).action(async (id: string, options: AddOptions, command: Command) => {
    const ctx = createContext(io, command)
    const client = createAdminClient(io, { config: ctx.config, options })
    // The server validates everything; only the port's shape is checked here, so "9o10" is
    // not sent as NaN.
    const port = /^\d{1,5}$/.test(options.port) ? Number(options.port) : options.port
    const added = await client.post<AdminDataCenter>('/admin/v1/data-centers', {
      id,
      city: options.city,
      jurisdiction: options.jurisdiction,
      port,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.storage === undefined ? {} : { storagePath: options.storage }),
      status: options.planned === true ? 'planned' : 'active',
    })
    io.stdout.write(
      options.json === true
        ? renderJson(added)
        : `Added data center "${added.id}" (${added.status}) in ${added.city}, ${added.jurisdiction}: S3 endpoint ${added.endpoint ?? 'not serving'}\n`,
    )
  })
}
