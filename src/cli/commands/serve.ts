import type { Command } from 'commander'
import { createLogger } from '../../core/index.js'
import type { RunningSovra } from '../../main.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderTable } from '../output/index.js'
import { stopOnSignals } from '../shutdown.js'

/** `sovra serve`: starts every data center of the catalog and the admin API in this process. */
export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('start every data center of the catalog and the admin API')
    .action(async (_options: unknown, command: Command) => {
      const ctx = createContext(io, command)
      const logger =
        io.logDestination === undefined
          ? createLogger(ctx.config.logLevel)
          : createLogger(ctx.config.logLevel, io.logDestination)
      // Loaded here, not at the top, so the other commands never load the server.
      const serve = io.serve ?? (await import('../../main.js')).serve
      const running = await serve(ctx.config, { logger })
      io.stdout.write(describe(running))
      stopOnSignals(
        io.process ?? process,
        () => running.stop(),
        (err) => {
          logger.error({ err }, 'Shutdown failed')
        },
      )
    })
}

/** The endpoints table, the admin endpoint, and the first-start credentials. */
function describe(running: RunningSovra): string {
  let out = renderTable(
    [
      { header: 'DATA CENTER', value: (dc: RunningSovra['dataCenters'][number]) => dc.id },
      { header: 'CITY', value: (dc) => dc.city },
      { header: 'JURISDICTION', value: (dc) => dc.jurisdiction },
      { header: 'STATUS', value: (dc) => dc.status },
      { header: 'ENDPOINT', value: (dc) => dc.endpoint },
    ],
    running.dataCenters,
  )
  out += `\nAdmin endpoint: ${running.adminEndpoint}\n`
  if (running.rootCredentials !== null) {
    out +=
      '\nRoot credentials (created on this first start):\n' +
      `  Access key id:     ${running.rootCredentials.accessKeyId}\n` +
      `  Secret access key: ${running.rootCredentials.secretAccessKey}\n` +
      'Store the secret access key now: it is shown only once and cannot be recovered.\n'
  }
  if (running.operatorToken !== null) {
    out +=
      `\nOperator token (admin API, created on this first start): ${running.operatorToken}\n` +
      'It is also kept, mode 0600, in <dataDir>/keys/operator.token for the sovra CLI on this machine.\n'
  }
  return out
}
