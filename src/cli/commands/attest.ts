import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { atomicWrite } from '../../core/index.js'
import {
  parseAttestation,
  parseCheckpoint,
  parseNote,
  verifyAttestation,
} from '../../ledger/index.js'
import {
  type AdminClientOptions,
  adminOptions,
  createAdminClient,
  tenantCredentialsOf,
} from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import {
  compareWithListing,
  fetchAttestation,
  s3EndpointOf,
  verifierKeyOf,
} from '../export/attest-client.js'
import { LedgerCheckFailed } from '../ledger/check-failed.js'
import { renderJson } from '../output/index.js'
import { createS3Client } from '../s3/s3-client.js'

interface VerifyOptions extends AdminClientOptions {
  readonly key?: string
  readonly dc?: string
  readonly bucket?: boolean
  readonly endpoint?: string
  readonly json?: boolean
}

/** The size of a checkpoint note (its signature is checked by verifyAttestation). */
function checkpointSize(note: string): string {
  return parseCheckpoint(parseNote(note).text).size.toString()
}

/**
 * `sovra attest get|verify`: fetch a residency attestation of one of your buckets, signed with
 * its data center's ledger key, and check it offline (and against a fresh S3 listing).
 */
export function registerAttest(program: Command, io: CliIo): void {
  const attest = program
    .command('attest')
    .description('residency attestations: a bucket statement signed by its data center')
  adminOptions(
    attest
      .command('get')
      .description(
        'fetch a signed residency attestation of your bucket (signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
      )
      .argument('<bucket>', 'bucket name')
      .option('--out <file>', 'write the attestation to this file (default: print it)'),
  ).action(
    async (bucket: string, options: AdminClientOptions & { out?: string }, command: Command) => {
      const ctx = createContext(io, command)
      const client = createAdminClient(io, { config: ctx.config, options })
      const doc = await fetchAttestation(client, bucket)
      const text = renderJson(doc)
      if (options.out === undefined) {
        io.stdout.write(text)
        return
      }
      await atomicWrite(options.out, text)
      const s = doc.statement
      io.stdout.write(
        `Attestation of "${s.bucket}" in ${s.dc} (${s.jurisdiction}): ${s.objectCount} objects, ${s.totalBytes} bytes, issued ${s.issuedAt}; written to ${options.out}\n`,
      )
    },
  )
  adminOptions(
    attest
      .command('verify')
      .description(
        "check an attestation's signature with the data center's verifier key, offline; with --bucket also against a fresh S3 listing",
      )
      .argument('<file>', 'the attestation (JSON, as `sovra attest get --out` writes it)')
      .option(
        '--key <vkey>',
        "the data center's verifier key (name+keyid+base64, or a file holding it): fully offline",
      )
      .option(
        '--dc <id>',
        'fetch the verifier key of this data center from the admin API instead (not offline)',
      )
      .option(
        '--bucket',
        'recompute the object count, bytes and list digest from a ListObjectsV2 walk (tenant credentials) and compare',
      )
      .option(
        '--endpoint <url>',
        "S3 endpoint for --bucket (default: the data center's, from the admin API)",
      )
      .option('--json', 'print JSON'),
  ).action(async (file: string, options: VerifyOptions, command: Command) => {
    const ctx = createContext(io, command)
    const client = createAdminClient(io, { config: ctx.config, options })
    const attestation = parseAttestation(readFileSync(file, 'utf8'))
    const key = await verifierKeyOf(io, { ...options, client })
    const check = verifyAttestation(attestation, key)
    if (!check.ok) throw new LedgerCheckFailed(`attestation: ${check.reason}`)
    const s = attestation.statement
    let differences: readonly string[] = []
    if (options.bucket === true) {
      const endpoint = await s3EndpointOf(client, { dc: s.dc, override: options.endpoint })
      const s3 = createS3Client({ endpoint, credentials: tenantCredentialsOf(io) })
      differences = (await compareWithListing(s, s3)).differences
    }
    const checkpoint =
      s.checkpoint === null
        ? 'no checkpoint yet'
        : `checkpoint size ${checkpointSize(s.checkpoint)}`
    if (options.json === true) {
      io.stdout.write(
        renderJson({ ok: differences.length === 0, statement: s, listingDifferences: differences }),
      )
    }
    if (differences.length > 0) {
      throw new LedgerCheckFailed(
        `the signature is valid, but the bucket's listing now differs from the attestation of ${s.issuedAt}:\n  ${differences.join('\n  ')}`,
      )
    }
    if (options.json !== true) {
      io.stdout.write(
        `OK attestation of "${s.bucket}" in ${s.dc} (${s.jurisdiction}): ${s.objectCount} objects, ${s.totalBytes} bytes, list digest ${s.listDigest}, issued ${s.issuedAt}; signed by ${attestation.signature.keyName}+${attestation.signature.keyId}, ${checkpoint} signed by the same key${options.bucket === true ? '; the current listing matches' : ''}\n`,
      )
    }
  })
}
