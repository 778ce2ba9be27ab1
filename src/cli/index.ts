import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import type { CliIo } from './cli-io.js'
import { registerAttest } from './commands/attest.js'
import { registerBucketExport } from './commands/bucket-export.js'
import { registerBucketKeyRotation } from './commands/bucket-key-rotation.js'
import { registerDcAdd } from './commands/dc-add.js'
import { registerDcLifecycle } from './commands/dc-lifecycle.js'
import { registerDcList } from './commands/dc-list.js'
import { registerInstructionKeygen } from './commands/instruction-keygen.js'
import { registerKeyCreate } from './commands/key-create.js'
import { registerKeyList } from './commands/key-list.js'
import { registerKeyRevoke } from './commands/key-revoke.js'
import { registerKeyd } from './commands/keyd.js'
import { registerLedger } from './commands/ledger.js'
import { registerServe } from './commands/serve.js'
import { registerTenantCreate } from './commands/tenant-create.js'
import { registerTenantKmsKey } from './commands/tenant-kms-key.js'
import { registerTenantList } from './commands/tenant-list.js'
import { registerTenantPubkey } from './commands/tenant-pubkey.js'
import { registerTenantWhoami } from './commands/tenant-whoami.js'
import { registerTransferAdmin } from './commands/transfer-admin.js'
import { registerTransferSign } from './commands/transfer-sign.js'
import { registerWitness } from './commands/witness.js'
import { LedgerCheckFailed } from './ledger/check-failed.js'

export type { CliIo, CliProcess, ServeFn, TextSink } from './cli-io.js'
export { EXIT_CHECK_FAILED } from './ledger/check-failed.js'

/** Exit code for usage errors (unknown option, missing argument). */
export const EXIT_USAGE = 2

/**
 * Builds the `sovra` command tree. Commander never exits the process or writes to the real
 * streams: it throws, and output goes to `io`, so tests can run it.
 */
export function buildCli(io: CliIo): Command {
  const program = new Command('sovra')
    .description('Sovra: an S3-compatible object store that keeps data in its data center')
    .option('--config <file>', 'JSON configuration file (default: $SOVRA_CONFIG)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`sovra: ${text.replace(/^error: /, '')}`),
    })
    .showSuggestionAfterError()
  const version = readVersion()
  if (version !== undefined) program.version(version)

  registerServe(program, io)
  const dc = program.command('dc').description('data centers')
  registerDcList(dc, io)
  registerDcAdd(dc, io)
  registerDcLifecycle(dc, io)
  const tenant = program.command('tenant').description('tenants (customer accounts)')
  registerTenantCreate(tenant, io)
  registerTenantList(tenant, io)
  registerTenantWhoami(tenant, io)
  registerTenantKmsKey(tenant, io)
  const bucket = program.command('bucket').description('buckets (signed with your S3 key)')
  registerBucketKeyRotation(bucket, io)
  registerBucketExport(bucket, io)
  const key = program.command('key').description('access keys')
  registerKeyCreate(key, io)
  registerKeyList(key, io)
  registerKeyRevoke(key, io)
  registerLedger(program, io)
  registerWitness(program, io)
  // Residency attestations and exports: the customer's own tools, with tenant credentials.
  registerAttest(program, io)
  // The transfer gate: keys and signing are the customer's, offline; the rest is the server's.
  registerTenantPubkey(tenant, io)
  const instruction = program
    .command('instruction')
    .description('signing keys for transfer instructions (offline)')
  registerInstructionKeygen(instruction, io)
  const transfer = program
    .command('transfer')
    .description('transfers between data centers (the transfer gate)')
  registerTransferSign(transfer, io)
  registerTransferAdmin(transfer, io)
  registerKeyd(program, io)
  return program
}

/**
 * Runs the CLI on `args` (without the node and script paths) and returns the exit code:
 * 0 on success, 1 on errors (printed as `sovra: <message>`), 2 on usage errors, 3 when a
 * `ledger` check found the log inconsistent or tampered with.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildCli(io).parseAsync([...args], { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE
    io.stderr.write(`sovra: ${err instanceof Error ? err.message : String(err)}\n`)
    return err instanceof LedgerCheckFailed ? err.exitCode : 1
  }
}

function readVersion(): string | undefined {
  try {
    // src/cli and dist/cli are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    return typeof pkg.version === 'string' ? pkg.version : undefined
  } catch {
    return undefined
  }
}
