import { readFileSync } from 'node:fs'
import { type AttestationStatement, ListDigest } from '../../ledger/index.js'
import type { AdminClient, AdminDataCenter } from '../admin-client.js'
import type { CliIo } from '../cli-io.js'
import type { S3Client } from '../s3/s3-client.js'
import type { AttestationDocument } from './bucket-export.js'

/** Fetches a signed attestation of the caller's bucket (tenant credentials from the environment). */
export function fetchAttestation(
  client: AdminClient,
  bucket: string,
): Promise<AttestationDocument> {
  return client.asTenant<AttestationDocument>(
    'GET',
    `/admin/v1/buckets/${encodeURIComponent(bucket)}/attestation`,
  )
}

/**
 * The verifier key to check an attestation with: `--key` (the key, or a file holding it: fully
 * offline), else the one the admin API publishes for `--dc`, with a warning that this trusts
 * the server.
 */
export async function verifierKeyOf(
  io: CliIo,
  options: { readonly client: AdminClient; readonly key?: string; readonly dc?: string },
): Promise<string> {
  const { client } = options
  if (options.key !== undefined) {
    return (options.key.includes('+') ? options.key : readFileSync(options.key, 'utf8')).trim()
  }
  if (options.dc === undefined) {
    throw new Error(
      'No verifier key: pass --key <verifier key or file> (offline), or --dc <id> to fetch the key the admin API publishes',
    )
  }
  const { ledgers } = await client.get<{
    ledgers: Array<{ dc: string; verifierKey: string }>
  }>('/admin/v1/ledger/keys')
  const found = ledgers.find((l) => l.dc === options.dc)
  if (found === undefined) {
    throw new Error(
      `The admin API publishes no ledger key for data center "${options.dc}" (it has: ${ledgers.map((l) => l.dc).join(', ')})`,
    )
  }
  io.stderr.write(
    `sovra: warning: fetched the verifier key of "${options.dc}" from ${client.url} (${found.verifierKey}); this check is not offline and trusts that server for the key. Pass --key with a key obtained another way to check the attestation on its own.\n`,
  )
  return found.verifierKey
}

/** The S3 endpoint of a data center: `--endpoint`, else the one the admin API's catalog shows. */
export async function s3EndpointOf(
  client: AdminClient,
  options: { readonly dc: string; readonly override?: string | undefined },
): Promise<string> {
  const { dc, override } = options
  if (override !== undefined) return override
  const found = await client.get<AdminDataCenter>(
    `/admin/v1/data-centers/${encodeURIComponent(dc)}`,
  )
  if (found.endpoint === null) {
    throw new Error(`Data center "${dc}" has no S3 endpoint (it is ${found.status})`)
  }
  return found.endpoint
}

/** What a listing says now, against what the statement says. */
export interface ListingComparison {
  readonly objectCount: number
  readonly totalBytes: number
  readonly listDigest: string
  /** One line per field that differs; empty when the listing matches the statement. */
  readonly differences: readonly string[]
}

/** Recomputes count, bytes and list digest from a ListObjectsV2 walk and compares them. */
export async function compareWithListing(
  statement: AttestationStatement,
  s3: S3Client,
): Promise<ListingComparison> {
  const digest = new ListDigest()
  for await (const page of s3.listObjects(statement.bucket)) {
    for (const o of page) digest.add(o.key, o.size, o.etag)
  }
  const objectCount = digest.count
  const totalBytes = digest.bytes
  const listDigest = digest.digest()
  const differences: string[] = []
  if (objectCount !== statement.objectCount) {
    differences.push(
      `objectCount: the attestation says ${statement.objectCount}, the listing has ${objectCount}`,
    )
  }
  if (totalBytes !== statement.totalBytes) {
    differences.push(
      `totalBytes: the attestation says ${statement.totalBytes}, the listing has ${totalBytes}`,
    )
  }
  if (listDigest !== statement.listDigest) {
    differences.push(
      `listDigest: the attestation says ${statement.listDigest}, the listing gives ${listDigest}`,
    )
  }
  return { objectCount, totalBytes, listDigest, differences }
}
