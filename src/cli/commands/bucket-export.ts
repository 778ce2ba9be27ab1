import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  type AdminClientOptions,
  adminOptions,
  createAdminClient,
  tenantCredentialsOf,
} from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { fetchAttestation, s3EndpointOf, verifierKeyOf } from '../export/attest-client.js'
import { exportBucket, MANIFEST_FILE, verifyExport } from '../export/bucket-export.js'
import { LedgerCheckFailed } from '../ledger/check-failed.js'
import { createS3Client } from '../s3/s3-client.js'

interface ExportOptions extends AdminClientOptions {
  readonly verify?: string
  readonly sseCKeyFile?: string
  readonly endpoint?: string
  readonly key?: string
  readonly dc?: string
}

/** An SSE-C key file: 32 raw bytes, or their base64 on one line. */
function readSseCKey(path: string): Uint8Array {
  const raw = readFileSync(path)
  if (raw.byteLength === 32) return new Uint8Array(raw)
  const decoded = Buffer.from(raw.toString('utf8').trim(), 'base64')
  if (decoded.byteLength !== 32) {
    throw new Error(
      `Cannot use the SSE-C key in "${path}": expected 32 bytes, raw or base64 (it holds ${raw.byteLength} bytes)`,
    )
  }
  return new Uint8Array(decoded)
}

/**
 * `sovra bucket export <bucket> <folder>`: every object of a bucket and a signed manifest into a
 * local folder; `--verify <folder>` re-hashes an export against its manifest.
 */
export function registerBucketExport(bucket: Command, io: CliIo): void {
  adminOptions(
    bucket
      .command('export')
      .description(
        'copy every object of your bucket into a folder with a manifest matching a signed residency attestation (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); --verify <folder> checks an export',
      )
      .argument('[bucket]', 'bucket name')
      .argument('[folder]', 'folder to export into (created; an interrupted export resumes)')
      .option('--verify <folder>', 're-hash an export folder against its manifest instead')
      .option('--sse-c-key-file <file>', 'SSE-C key (32 bytes, raw or base64) sent with every GET')
      .option(
        '--endpoint <url>',
        "S3 endpoint (default: the bucket's data center's, from the admin API)",
      )
      .option(
        '--key <vkey>',
        'with --verify: also check the attestation signature with this verifier key (or file)',
      )
      .option(
        '--dc <id>',
        'with --verify: fetch the verifier key of this data center from the admin API',
      ),
  ).action(
    async (
      name: string | undefined,
      folder: string | undefined,
      options: ExportOptions,
      command: Command,
    ) => {
      const ctx = createContext(io, command)
      const client = createAdminClient(io, { config: ctx.config, options })
      if (options.verify !== undefined) {
        const verifierKey =
          options.key === undefined && options.dc === undefined
            ? undefined
            : await verifierKeyOf(io, { ...options, client })
        const check = await verifyExport(options.verify, {
          ...(verifierKey === undefined ? {} : { verifierKey }),
        })
        if (check.problems.length > 0) {
          throw new LedgerCheckFailed(
            `the export in "${options.verify}" does not match its manifest:\n  ${check.problems.join('\n  ')}`,
          )
        }
        const m = check.manifest
        io.stdout.write(
          `OK export of "${m.bucket}" (${m.dc}): ${m.objects.length} files match ${MANIFEST_FILE}, and its list digest is the attestation's${check.signatureChecked ? '; the attestation signature is valid' : ' (signature not checked: pass --key)'}\n`,
        )
        return
      }
      if (name === undefined || folder === undefined) {
        throw new Error('Usage: sovra bucket export <bucket> <folder> (or --verify <folder>)')
      }
      const credentials = tenantCredentialsOf(io)
      const first = await fetchAttestation(client, name)
      const endpoint = await s3EndpointOf(client, {
        dc: first.statement.dc,
        override: options.endpoint,
      })
      const s3 = createS3Client({
        endpoint,
        credentials,
        ...(options.sseCKeyFile === undefined
          ? {}
          : { sseCustomerKey: readSseCKey(options.sseCKeyFile) }),
      })
      let pending: typeof first | undefined = first
      const result = await exportBucket({
        bucket: name,
        folder,
        s3,
        attest: async () => {
          const doc = pending ?? (await fetchAttestation(client, name))
          pending = undefined
          return doc
        },
        report: (line) => io.stderr.write(`sovra: ${line}\n`),
      })
      const s = result.manifest.attestation.statement
      io.stdout.write(
        `Exported "${name}" from ${s.dc} (${s.jurisdiction}) to ${folder}: ${s.objectCount} objects, ${s.totalBytes} bytes (${result.downloaded} downloaded, ${result.skipped} already there)${result.manifest.rounds > 1 ? `; the bucket changed during the export, re-attested ${result.manifest.rounds - 1} time(s)` : ''}; ${MANIFEST_FILE} matches the attestation issued ${s.issuedAt}\n`,
      )
    },
  )
}
