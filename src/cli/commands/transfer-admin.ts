import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { TransferRecord, TransferStatus } from '../../directory/index.js'
import type { CliIo } from '../cli-io.js'
import { formatTime, renderJson, renderTable } from '../output/index.js'
import { DATA_DIR_OPTION, withTransfers } from '../transfer-context.js'

const STATUSES = ['queued', 'running', 'done', 'failed'] as const

/** A transfer without the signed document (long; shown by `status --json`). */
function summary(t: TransferRecord) {
  const { signed: _signed, ...rest } = t
  return rest
}

function describe(t: TransferRecord): string {
  return (
    `Transfer   ${t.id}\n` +
    `Operation  ${t.operation} ${t.source.dc}/${t.source.bucket} → ${t.destination.dc}/${t.destination.bucket}\n` +
    `Status     ${t.status} (${t.phase})\n` +
    `Progress   ${t.objectsDone} objects, ${t.bytesDone} bytes, ${t.objectsMissing} missing\n` +
    `Submitted  ${formatTime(t.submittedAt)}\n` +
    `Logged     ${formatTime(t.loggedAt)}\n` +
    `Finished   ${formatTime(t.finishedAt)}\n` +
    (t.error === null ? '' : `Error      ${t.error}\n`)
  )
}

/** `sovra transfer submit FILE | status ID | list`: the server side, on the data folder for now. */
export function registerTransferAdmin(transfer: Command, io: CliIo): void {
  transfer
    .command('submit')
    .description('verify and accept a signed instruction; a running server logs and runs it')
    .argument('<file>', 'the signed instruction (from `sovra transfer sign` or your own tools)')
    .option('--tenant <name|id>', "the submitting tenant (default: the instruction's)")
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(
      async (file: string, options: { tenant?: string; json?: boolean }, command: Command) => {
        const text = readFileSync(file, 'utf8')
        const declared = (() => {
          try {
            return (JSON.parse(text) as { instruction?: { tenantId?: unknown } }).instruction
              ?.tenantId
          } catch {
            return undefined
          }
        })()
        const tenant = options.tenant ?? (typeof declared === 'string' ? declared : '')
        const record = await withTransfers(io, command, (t) => t.submit(text, tenant))
        io.stdout.write(
          options.json === true
            ? renderJson(summary(record))
            : `Accepted transfer ${record.id} (queued; a running server logs it in both ledgers and runs it)\n`,
        )
      },
    )

  transfer
    .command('status')
    .description('show one transfer and its progress')
    .argument('<id>', 'transfer id (64 hex digits)')
    .option('--tenant <name|id>', 'the tenant that must own it')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (id: string, options: { tenant?: string; json?: boolean }, command: Command) => {
      const record = await withTransfers(io, command, (t) => t.status(id, options.tenant))
      io.stdout.write(options.json === true ? renderJson(summary(record)) : describe(record))
    })

  transfer
    .command('list')
    .description('list transfers, newest first')
    .option('--tenant <name|id>', "only this tenant's")
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(
      async (options: { tenant?: string; status?: string; json?: boolean }, command: Command) => {
        if (
          options.status !== undefined &&
          !(STATUSES as readonly string[]).includes(options.status)
        ) {
          command.error(`--status must be one of ${STATUSES.join(', ')}`, { exitCode: 2 })
        }
        const list = await withTransfers(io, command, (t) =>
          t.list({
            ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
            ...(options.status === undefined
              ? {}
              : { statuses: [options.status as TransferStatus] }),
          }),
        )
        io.stdout.write(
          options.json === true
            ? renderJson(list.map(summary))
            : renderTable(
                [
                  { header: 'TRANSFER', value: (t: TransferRecord) => t.id.slice(0, 16) },
                  { header: 'OP', value: (t) => t.operation },
                  { header: 'FROM', value: (t) => `${t.source.dc}/${t.source.bucket}` },
                  { header: 'TO', value: (t) => `${t.destination.dc}/${t.destination.bucket}` },
                  { header: 'STATUS', value: (t) => t.status },
                  { header: 'OBJECTS', value: (t) => String(t.objectsDone) },
                  { header: 'SUBMITTED', value: (t) => formatTime(t.submittedAt) },
                ],
                list,
              ),
        )
      },
    )
}
