import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { type Command, InvalidArgumentError } from 'commander'
import { createLogger } from '../../core/index.js'
import { readWitnessKey, startWitness } from '../../witness/index.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'
import { stopOnSignals } from '../shutdown.js'

/** Where `sovra witness serve` listens by default. */
export const DEFAULT_WITNESS_PORT = 9100

function port(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= 0 && n <= 65535)) throw new InvalidArgumentError('not a port between 0 and 65535')
  return n
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** `--log` values: a verifier key, or a file holding one key per line (`#` comments). */
function logKeys(values: readonly string[]): string[] {
  return values.flatMap((value) =>
    value.includes('+')
      ? [value.trim()]
      : readFileSync(value, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#')),
  )
}

/** A default key name: `witness.<host name>`, stripped of what key names may not hold. */
function defaultName(): string {
  return `witness.${hostname().replace(/[^A-Za-z0-9._-]/g, '-') || 'local'}`
}

/** `sovra witness serve|key`: run a c2sp.org/tlog-witness for Sovra's (or any) logs. */
export function registerWitness(program: Command, io: CliIo): void {
  const witness = program
    .command('witness')
    .description('a transparency-log witness: cosigns checkpoints that extend the ones it saw')

  witness
    .command('serve')
    .description('answer POST /add-checkpoint (c2sp.org/tlog-witness) for the given logs')
    .requiredOption('--state <dir>', 'folder for the witness key and state (created if missing)')
    .requiredOption(
      '--log <vkey>',
      "a log to witness: its verifier key (the key name is the log's origin), or a file of keys (repeatable)",
      collect,
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', port, DEFAULT_WITNESS_PORT)
    .option('--name <name>', 'key name, used when the key is created', defaultName())
    .option('--log-level <level>', 'log level', 'info')
    .action(
      async (options: {
        state: string
        log: string[]
        host: string
        port: number
        name: string
        logLevel: string
      }) => {
        const logger =
          io.logDestination === undefined
            ? createLogger(options.logLevel)
            : createLogger(options.logLevel, io.logDestination)
        const running = await startWitness({
          stateDir: options.state,
          logs: logKeys(options.log),
          name: options.name,
          host: options.host,
          port: options.port,
          logger,
        })
        io.stdout.write(
          `Witness ${running.name} listening on ${running.url} (POST /add-checkpoint)\n` +
            `Verifier key${running.keyCreated ? ' (created now)' : ''}: ${running.verifierKey}\n` +
            `Witnessing: ${running.origins.join(', ')}\n`,
        )
        stopOnSignals(
          io.process ?? process,
          () => running.stop(),
          (err) => logger.error({ err }, 'Shutdown failed'),
        )
      },
    )

  witness
    .command('key')
    .description("print the witness's verifier key (for ledger.witnesses and ledger verify)")
    .requiredOption('--state <dir>', 'the state folder of `witness serve`')
    .option('--json', 'print JSON')
    .action(async (options: { state: string; json?: boolean }) => {
      const key = await readWitnessKey(options.state)
      if (key === undefined) {
        throw new Error(
          `Cannot read the witness key in "${options.state}": none yet, \`sovra witness serve\` creates it`,
        )
      }
      io.stdout.write(
        options.json === true
          ? renderJson({ name: key.name, verifierKey: key.verifierKey })
          : `${key.verifierKey}\n`,
      )
    })
}
