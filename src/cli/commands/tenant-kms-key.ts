import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { type AdminClientOptions, adminOptions, createAdminClient } from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson, renderTable } from '../output/index.js'

/**
 * A customer KMS key as the admin API answers it (`#/components/schemas/KmsKey`). Declared here:
 * the CLI is a client of the wire format, not of the server's code.
 */
interface KmsKey {
  readonly keyId: string
  readonly arn: string
  readonly provider: string
  readonly address: string
  readonly mount: string
  readonly keyName: string
  readonly namespace: string | null
  readonly dataCenters: readonly string[] | null
  readonly createdAt: string
  readonly disabledAt: string | null
}

/** Where the key service token comes from: never an argument (visible to other users). */
const TOKEN_ENV = 'SOVRA_KMS_KEY_TOKEN'

function tokenOf(io: CliIo, tokenFile: string | undefined): string {
  const token = tokenFile === undefined ? io.env[TOKEN_ENV] : readFileSync(tokenFile, 'utf8').trim()
  if (token === undefined || token === '') {
    throw new Error(
      `No key service token: set ${TOKEN_ENV} or pass --token-file <file> (the token Sovra wraps and unwraps with)`,
    )
  }
  return token
}

/**
 * `sovra tenant kms-key add|list|remove`: the calling tenant's customer KMS keys, through the
 * admin API, signed with its S3 key (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`).
 */
export function registerTenantKmsKey(tenant: Command, io: CliIo): void {
  const kmsKey = tenant
    .command('kms-key')
    .description(
      'customer KMS keys (vault-transit: Vault, OpenBao or sovra keyd) that buckets name as KMSMasterKeyID',
    )

  adminOptions(
    kmsKey
      .command('add')
      .description(`register a key; the token comes from $${TOKEN_ENV} or --token-file`)
      .argument('<key-id>', 'the id buckets will name (letters, digits, "_", ".", "-")')
      .requiredOption('--address <url>', 'http(s) URL of the key service')
      .requiredOption('--key-name <name>', 'the Transit key name')
      .option('--mount <path>', 'Transit mount path', 'transit')
      .option('--namespace <ns>', 'Vault Enterprise / OpenBao namespace')
      .option('--data-center <id...>', 'data centers the key may be used in (default any)')
      .option('--token-file <file>', `a file holding the token (else $${TOKEN_ENV})`)
      .option('--json', 'print JSON'),
  ).action(
    async (
      keyId: string,
      options: AdminClientOptions & {
        address: string
        keyName: string
        mount: string
        namespace?: string
        dataCenter?: string[]
        tokenFile?: string
        json?: boolean
      },
      command: Command,
    ) => {
      const ctx = createContext(io, command)
      const client = createAdminClient(io, { config: ctx.config, options })
      const added = await client.asTenant<KmsKey>('POST', '/admin/v1/tenant/kms-keys', {
        keyId,
        address: options.address,
        keyName: options.keyName,
        mount: options.mount,
        token: tokenOf(io, options.tokenFile),
        ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
        ...(options.dataCenter === undefined ? {} : { dataCenters: options.dataCenter }),
      })
      io.stdout.write(
        options.json === true
          ? renderJson(added)
          : `Registered KMS key "${added.keyId}" (${added.arn})\n`,
      )
    },
  )

  adminOptions(
    kmsKey
      .command('list')
      .description('list your KMS keys, removed ones included (tokens are never shown)')
      .option('--json', 'print JSON'),
  ).action(async (options: AdminClientOptions & { json?: boolean }, command: Command) => {
    const ctx = createContext(io, command)
    const client = createAdminClient(io, { config: ctx.config, options })
    const { kmsKeys } = await client.asTenant<{ kmsKeys: KmsKey[] }>(
      'GET',
      '/admin/v1/tenant/kms-keys',
    )
    io.stdout.write(
      options.json === true
        ? renderJson(kmsKeys)
        : renderTable<KmsKey>(
            [
              { header: 'KEY ID', value: (k) => k.keyId },
              { header: 'ADDRESS', value: (k) => k.address },
              { header: 'TRANSIT KEY', value: (k) => `${k.mount}/${k.keyName}` },
              { header: 'DATA CENTERS', value: (k) => k.dataCenters?.join(',') ?? 'any' },
              { header: 'CREATED', value: (k) => k.createdAt },
              { header: 'REMOVED', value: (k) => k.disabledAt ?? '-' },
            ],
            kmsKeys,
          ),
    )
  })

  adminOptions(
    kmsKey
      .command('remove')
      .description(
        'remove a key: it wraps and unwraps nothing from now on (refused while a bucket names it)',
      )
      .argument('<key-id>', 'the key id')
      .option('--json', 'print JSON'),
  ).action(
    async (keyId: string, options: AdminClientOptions & { json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const client = createAdminClient(io, { config: ctx.config, options })
      const removed = await client.asTenant<KmsKey>(
        'DELETE',
        `/admin/v1/tenant/kms-keys/${encodeURIComponent(keyId)}`,
      )
      io.stdout.write(
        options.json === true ? renderJson(removed) : `Removed KMS key "${removed.keyId}"\n`,
      )
    },
  )
}
