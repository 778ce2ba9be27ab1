import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { type AdminClientOptions, adminOptions, createAdminClient } from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson, renderTable } from '../output/index.js'

const STATUSES = ['queued', 'running', 'done', 'failed'] as const

/** A transfer as the admin API answers it (`#/components/schemas/Transfer`). */
interface AdminTransfer {
  readonly id: string
  readonly tenantId: string
  readonly operation: string
  readonly source: { readonly dc: string; readonly bucket: string }
  readonly destination: { readonly dc: string; readonly bucket: string }
  readonly notAfter: string
  readonly status: string
  readonly phase: string
  readonly objectsDone: number
  readonly bytesDone: number
  readonly objectsMissing: number
  readonly error: string | null
  readonly submittedAt: string
  readonly loggedAt: string | null
  readonly finishedAt: string | null
}

interface TransferOptions extends AdminClientOptions {
  readonly json?: boolean
  readonly operator?: boolean
  readonly tenant?: string
  readonly status?: string
  readonly limit?: string
}

function describe(t: AdminTransfer): string {
  return (
    `Transfer   ${t.id}\n` +
    `Operation  ${t.operation} ${t.source.dc}/${t.source.bucket} → ${t.destination.dc}/${t.destination.bucket}\n` +
    `Status     ${t.status} (${t.phase})\n` +
    `Progress   ${t.objectsDone} objects, ${t.bytesDone} bytes, ${t.objectsMissing} missing\n` +
    `Submitted  ${t.submittedAt}\n` +
    `Logged     ${t.loggedAt ?? '-'}\n` +
    `Finished   ${t.finishedAt ?? '-'}\n` +
    `Valid to   ${t.notAfter}\n` +
    (t.error === null ? '' : `Error      ${t.error}\n`)
  )
}

const clientOf = (io: CliIo, command: Command, options: AdminClientOptions) =>
  createAdminClient(io, { config: createContext(io, command).config, options })

/**
 * `sovra transfer submit FILE | status ID | list`, through the admin API as the tenant whose S3
 * credentials are in the environment; `status` and `list` take `--operator` to read any
 * tenant's transfers with the operator token. Submitting is the tenant's alone.
 */
export function registerTransferAdmin(transfer: Command, io: CliIo): void {
  adminOptions(
    transfer
      .command('submit')
      .description(
        'submit a signed instruction as your tenant: the server verifies, records, logs it in both data centers and runs it',
      )
      .argument('<file>', 'the signed instruction (from `sovra transfer sign` or your own tools)')
      .option('--json', 'print JSON'),
  ).action(async (file: string, options: TransferOptions, command: Command) => {
    const text = readFileSync(file, 'utf8')
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch (err) {
      throw new Error(`Cannot read "${file}" as JSON: ${(err as Error).message}`)
    }
    const record = await clientOf(io, command, options).asTenant<AdminTransfer>(
      'POST',
      '/admin/v1/transfers',
      document,
    )
    io.stdout.write(
      options.json === true
        ? renderJson(record)
        : `Accepted transfer ${record.id} (${record.status}; logged in both data centers before any byte moves)\n`,
    )
  })

  adminOptions(
    transfer
      .command('status')
      .description('show one of your transfers and its progress')
      .argument('<id>', 'transfer id (64 hex digits)')
      .option('--operator', "as the operator (operator token): any tenant's transfer")
      .option('--json', 'print JSON'),
  ).action(async (id: string, options: TransferOptions, command: Command) => {
    const client = clientOf(io, command, options)
    const path = `/admin/v1/transfers/${encodeURIComponent(id)}`
    const record =
      options.operator === true
        ? await client.asOperator<AdminTransfer>('GET', path)
        : await client.asTenant<AdminTransfer>('GET', path)
    io.stdout.write(options.json === true ? renderJson(record) : describe(record))
  })

  adminOptions(
    transfer
      .command('list')
      .description('list your transfers, newest first')
      .option('--status <status>', `only these statuses, comma-separated (${STATUSES.join(', ')})`)
      .option('--limit <n>', 'at most this many (default 100, at most 1000)')
      .option('--operator', "as the operator (operator token): every tenant's transfers")
      .option('--tenant <name|id>', "with --operator: only this tenant's")
      .option('--json', 'print JSON'),
  ).action(async (options: TransferOptions, command: Command) => {
    const statuses = options.status?.split(',') ?? []
    const unknown = statuses.filter((s) => !(STATUSES as readonly string[]).includes(s))
    if (unknown.length > 0) {
      command.error(`--status must be among ${STATUSES.join(', ')}`, { exitCode: 2 })
    }
    if (options.limit !== undefined && !/^\d{1,4}$/.test(options.limit)) {
      command.error('--limit must be a number from 1 to 1000', { exitCode: 2 })
    }
    if (options.tenant !== undefined && options.operator !== true) {
      command.error('--tenant needs --operator: as a tenant you see your own transfers', {
        exitCode: 2,
      })
    }
    const query = new URLSearchParams()
    if (options.status !== undefined) query.set('status', options.status)
    if (options.limit !== undefined) query.set('limit', options.limit)
    if (options.tenant !== undefined) query.set('tenant', options.tenant)
    const path = `/admin/v1/transfers${query.size === 0 ? '' : `?${query}`}`
    const client = clientOf(io, command, options)
    const { transfers } =
      options.operator === true
        ? await client.asOperator<{ transfers: AdminTransfer[] }>('GET', path)
        : await client.asTenant<{ transfers: AdminTransfer[] }>('GET', path)
    io.stdout.write(
      options.json === true
        ? renderJson(transfers)
        : renderTable(
            [
              { header: 'TRANSFER', value: (t: AdminTransfer) => t.id.slice(0, 16) },
              ...(options.operator === true
                ? [{ header: 'TENANT', value: (t: AdminTransfer) => t.tenantId }]
                : []),
              { header: 'OP', value: (t) => t.operation },
              { header: 'FROM', value: (t) => `${t.source.dc}/${t.source.bucket}` },
              { header: 'TO', value: (t) => `${t.destination.dc}/${t.destination.bucket}` },
              { header: 'STATUS', value: (t) => t.status },
              { header: 'OBJECTS', value: (t) => String(t.objectsDone) },
              { header: 'SUBMITTED', value: (t) => t.submittedAt },
            ],
            transfers,
          ),
    )
  })
}
