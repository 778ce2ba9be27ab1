import { readFile } from 'node:fs/promises'
import { type Command, InvalidArgumentError } from 'commander'
import { createLogger } from '../../core/index.js'
import {
  allowAllUnwraps,
  createKeyd,
  KEYD_DEFAULT_HOST,
  KEYD_DEFAULT_PORT,
  KeydAdminClient,
  type KeydKeyInfo,
  type KeydSettings,
  ledgerReceiptAuthorizer,
  parseKeydFile,
  type UnwrapAuthorizer,
} from '../../keys/index.js'
import { commit, openEntryReceipt, parseVerifierKey, verifierFromKey } from '../../ledger/index.js'
import type { CliIo } from '../cli-io.js'
import { renderJson, renderTable } from '../output/index.js'
import { stopOnSignals } from '../shutdown.js'

/**
 * The unwrap authorizer a keyd file asks for: with log-before-decrypt, receipts are verified with
 * the ledger's `openEntryReceipt` (keys/ may not import ledger/, so the face composes the two).
 * Checks every ledger and witness key up front, so a typo stops keyd at start.
 */
export function keydAuthorizer(
  settings: KeydSettings,
  options: { readonly now?: () => Date } = {},
): UnwrapAuthorizer {
  for (const [dc, key] of Object.entries(settings.ledgerKeys)) {
    try {
      parseVerifierKey(key)
    } catch (err) {
      throw new RangeError(
        `Cannot use the ledger key of "${dc}": ${err instanceof Error ? err.message : String(err)}`,
      )
    }
  }
  const policy = settings.logBeforeDecrypt
  if (policy === undefined) return allowAllUnwraps
  for (const key of policy.witnessKeys) verifierFromKey(key)
  return ledgerReceiptAuthorizer(policy, {
    verifyReceipt: (receipt, ledgerKey) =>
      openEntryReceipt(receipt, {
        logVerifierKey: ledgerKey,
        witnessVerifierKeys: policy.witnessKeys,
      }),
    commit,
    ...(options.now === undefined ? {} : { now: options.now }),
  })
}

/** Reads and validates a keyd configuration file. */
export async function readKeydFile(file: string): Promise<KeydSettings> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new Error(
      `Cannot read keyd configuration "${file}": ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  return parseKeydFile(json, file)
}

function name(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(value)) {
    throw new InvalidArgumentError('not a Transit key name (letters, digits, _ . -)')
  }
  return value
}

interface AdminOptions {
  address?: string
  mount?: string
  json?: boolean
}

/** `sovra keyd serve|key`: the key service a customer runs on its own premises. */
export function registerKeyd(program: Command, io: CliIo): void {
  const keyd = program
    .command('keyd')
    .description(
      'a key service you run yourself (Vault Transit subset, audit log, log-before-decrypt)',
    )

  keyd
    .command('serve')
    .description('serve the Transit API for the data centers on the allow-list')
    // `--config` is also sovra's global option, which commander fills first: read it from both.
    .option('--config <file>', 'keyd configuration (JSON; see docs/keys.md)')
    .option('--log-level <level>', 'log level', 'info')
    .action(async (options: { config?: string; logLevel: string }, command: Command) => {
      const file = options.config ?? (command.optsWithGlobals() as { config?: string }).config
      if (file === undefined) throw new Error('Cannot start keyd: --config <file> is required')
      const logger =
        io.logDestination === undefined
          ? createLogger(options.logLevel)
          : createLogger(options.logLevel, io.logDestination)
      const settings = await readKeydFile(file)
      const authorizer = keydAuthorizer(settings)
      const server = await createKeyd(settings.keyd, { logger, authorizer })
      const url = await server.listen(settings.listen)
      const lbd = settings.logBeforeDecrypt
      io.stdout.write(
        `keyd listening on ${url} (mount ${settings.keyd.mount ?? 'transit'})\n` +
          `Data centers allowed: ${Object.keys(settings.ledgerKeys).join(', ')}\n` +
          `Log-before-decrypt: ${lbd === undefined ? 'off' : `on, events at most ${lbd.maxCheckpointAgeSeconds} s old`}\n`,
      )
      stopOnSignals(
        io.process ?? process,
        () => server.close(),
        (err) => logger.error({ err }, 'Shutdown failed'),
      )
    })

  const key = keyd
    .command('key')
    .description(
      'manage keys of a running keyd (admin token from $SOVRA_KEYD_TOKEN); works against Vault Transit too',
    )
  const admin = (command: Command) =>
    command
      .option(
        '--address <url>',
        'keyd address (default: $SOVRA_KEYD_ADDR or http://127.0.0.1:8200)',
      )
      .option('--mount <path>', 'Transit mount', 'transit')
      .option('--json', 'print JSON')
  const client = (options: AdminOptions): KeydAdminClient => {
    const token = io.env.SOVRA_KEYD_TOKEN
    if (token === undefined || token === '') {
      throw new Error(
        'Cannot call keyd: $SOVRA_KEYD_TOKEN is not set (the admin token of the keyd file)',
      )
    }
    return new KeydAdminClient({
      address:
        options.address ??
        io.env.SOVRA_KEYD_ADDR ??
        `http://${KEYD_DEFAULT_HOST}:${KEYD_DEFAULT_PORT}`,
      token,
      mount: options.mount ?? 'transit',
    })
  }
  const print = (options: AdminOptions, keys: readonly KeydKeyInfo[], note?: string) => {
    if (options.json === true) {
      io.stdout.write(renderJson(keys.length === 1 && note !== undefined ? keys[0] : keys))
      return
    }
    io.stdout.write(
      renderTable(
        [
          { header: 'KEY', value: (k: KeydKeyInfo) => k.name },
          { header: 'LATEST VERSION', value: (k) => String(k.latestVersion) },
          { header: 'MIN DECRYPTION VERSION', value: (k) => String(k.minDecryptionVersion) },
          { header: 'DERIVED', value: (k) => (k.derived ? 'yes' : 'no') },
        ],
        keys,
      ),
    )
    if (note !== undefined) io.stdout.write(`${note}\n`)
  }

  admin(key.command('create').argument('<name>', 'key name', name))
    .description('create a derived aes256-gcm96 key (the one Sovra wraps data keys with)')
    .action(async (keyName: string, options: AdminOptions) => {
      print(options, [await client(options).create(keyName)], `Created key ${keyName}`)
    })

  admin(key.command('rotate').argument('<name>', 'key name', name))
    .description('add a key version; new data keys are wrapped under it, old ones still open')
    .action(async (keyName: string, options: AdminOptions) => {
      const info = await client(options).rotate(keyName)
      print(options, [info], `Rotated key ${keyName} to version ${info.latestVersion}`)
    })

  admin(key.command('list'))
    .description('list keys and their versions')
    .action(async (options: AdminOptions) => {
      print(options, await client(options).list())
    })

  admin(key.command('disable').argument('<name>', 'key name', name))
    .description(
      'revoke: every data key wrapped so far stops opening (reads fail with KeyDisabled)',
    )
    .action(async (keyName: string, options: AdminOptions) => {
      const info = await client(options).revoke(keyName)
      print(
        options,
        [info],
        `Revoked key ${keyName}: data keys wrapped under versions below ${info.minDecryptionVersion} are refused`,
      )
    })
}
