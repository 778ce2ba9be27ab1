import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  instructionDigest,
  newNonce,
  signInstruction,
  type TransferEndpoint,
  type TransferInstruction,
  type TransferScope,
} from '../../residency/index.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

interface SignOptions {
  key: string
  tenant: string
  from: string
  to: string
  prefix?: string
  keys?: string
  op: string
  validFor: string
  notBefore?: string
  purpose?: string
  legalBasis?: string
  out: string
  json?: boolean
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90s`, `30m`, `1h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim())
  if (m === null)
    throw new Error(`Invalid duration "${text}": expected a number and s, m, h or d, such as "1h"`)
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

function endpointOf(text: string, option: string): TransferEndpoint {
  const slash = text.indexOf('/')
  if (slash <= 0 || slash === text.length - 1) {
    throw new Error(`Invalid ${option} "${text}": expected <data center>/<bucket>`)
  }
  return { dc: text.slice(0, slash), bucket: text.slice(slash + 1) }
}

/**
 * `sovra transfer sign`: the customer's side, offline. Builds a transfer instruction, checks it
 * strictly, signs it with the private key and writes the signed document; prints its id.
 */
export function registerTransferSign(transfer: Command, io: CliIo): void {
  transfer
    .command('sign')
    .description('build and sign a transfer instruction with your private key (offline)')
    .requiredOption('--key <file>', 'your Ed25519 private key (PKCS#8 PEM)')
    .requiredOption('--tenant <id>', 'your tenant id (t-…)')
    .requiredOption('--from <dc/bucket>', 'source data center and bucket')
    .requiredOption('--to <dc/bucket>', 'destination data center and bucket')
    .option('--prefix <prefix>', 'only keys under this prefix')
    .option('--keys <k1,k2,…>', 'only these keys (comma-separated)')
    .requiredOption('--op <operation>', 'copy, move or migrate')
    .requiredOption(
      '--valid-for <duration>',
      'validity window from now (or --not-before): 30m, 1h, 7d (at most 31d)',
    )
    .option('--not-before <time>', 'start of the window, RFC 3339 UTC (default: now)')
    .option('--purpose <text>', 'free text for you and your auditors')
    .option(
      '--legal-basis <kind:reference>',
      'legal basis, e.g. CN-PIPL-standard-contract:SC-2025-0042',
    )
    .requiredOption('--out <file>', 'where to write the signed instruction (JSON)')
    .option('--json', 'print JSON')
    .action((options: SignOptions, command: Command) => {
      if (options.prefix !== undefined && options.keys !== undefined) {
        command.error('--prefix and --keys cannot be given together', { exitCode: 2 })
      }
      const scope: TransferScope =
        options.prefix !== undefined
          ? { kind: 'prefix', prefix: options.prefix }
          : options.keys !== undefined
            ? { kind: 'keys', keys: options.keys.split(',').filter((k) => k !== '') }
            : { kind: 'bucket' }
      const from = options.notBefore === undefined ? Date.now() : Date.parse(options.notBefore)
      if (Number.isNaN(from))
        throw new Error(`Invalid --not-before "${options.notBefore}": expected an RFC 3339 time`)
      const until = from + parseDuration(options.validFor)
      let legalBasis: { kind: string; reference: string } | undefined
      if (options.legalBasis !== undefined) {
        const colon = options.legalBasis.indexOf(':')
        if (colon <= 0)
          throw new Error(
            `Invalid --legal-basis "${options.legalBasis}": expected <kind>:<reference>`,
          )
        legalBasis = {
          kind: options.legalBasis.slice(0, colon),
          reference: options.legalBasis.slice(colon + 1),
        }
      }
      const instruction = {
        type: 'sovra.transfer-instruction',
        version: 1,
        tenantId: options.tenant,
        source: endpointOf(options.from, '--from'),
        destination: endpointOf(options.to, '--to'),
        scope,
        operation: options.op,
        notBefore: new Date(from).toISOString(),
        notAfter: new Date(until).toISOString(),
        nonce: newNonce(),
        ...(options.purpose === undefined ? {} : { purpose: options.purpose }),
        ...(legalBasis === undefined ? {} : { legalBasis }),
      } as TransferInstruction
      const signed = signInstruction(instruction, readFileSync(options.key, 'utf8'))
      writeFileSync(options.out, `${JSON.stringify(signed, null, 2)}\n`, { flag: 'wx' })
      const out = {
        id: instructionDigest(signed.instruction),
        keyId: signed.keyId,
        file: options.out,
        notAfter: signed.instruction.notAfter,
      }
      io.stdout.write(
        options.json === true
          ? renderJson(out)
          : `Signed instruction ${out.id}\nKey:        ${out.keyId}\nValid until ${out.notAfter}\nWritten to  ${out.file}\n`,
      )
    })
}
