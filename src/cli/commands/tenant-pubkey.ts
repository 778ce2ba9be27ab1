import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { isPrivateKeyText } from '../../residency/index.js'
import { type AdminClientOptions, adminOptions, createAdminClient } from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson, renderTable } from '../output/index.js'

/** A signing key as the admin API answers it (`#/components/schemas/SigningKey`). */
interface AdminSigningKey {
  readonly keyId: string
  readonly tenantId: string
  readonly publicKey: string
  readonly createdAt: string
  readonly revokedAt: string | null
}

interface PubkeyOptions extends AdminClientOptions {
  readonly json?: boolean
  readonly operator?: boolean
  readonly tenant?: string
}

const clientOf = (io: CliIo, command: Command, options: AdminClientOptions) =>
  createAdminClient(io, { config: createContext(io, command).config, options })

/**
 * `sovra tenant pubkey add|list|revoke`: the Ed25519 public keys that sign a tenant's transfer
 * instructions, through the admin API. The tenant is the one whose S3 credentials are in the
 * environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); `--operator` lists or revokes any
 * tenant's keys with the operator token instead. Only the tenant itself can add a key.
 */
export function registerTenantPubkey(tenant: Command, io: CliIo): void {
  const pubkey = tenant
    .command('pubkey')
    .description(
      'signing keys of your transfer instructions (public keys only), as the tenant of AWS_ACCESS_KEY_ID',
    )

  adminOptions(
    pubkey
      .command('add')
      .description('register a public key (SPKI PEM file, or the raw key in base64)')
      .argument('<key>', 'a .pem file, or the raw 32-byte public key in base64/base64url')
      .option('--json', 'print JSON'),
  ).action(async (key: string, options: PubkeyOptions, command: Command) => {
    const text = existsSync(key) ? readFileSync(key, 'utf8') : key
    // Refused here too, so that a private key given by mistake never leaves this machine.
    if (isPrivateKeyText(text)) {
      throw new Error(
        'Cannot register a private key: give the public key (signing-key.pub.pem); the private key stays with you',
      )
    }
    const added = await clientOf(io, command, options).asTenant<AdminSigningKey>(
      'POST',
      '/admin/v1/tenant/signing-keys',
      { publicKey: text },
    )
    io.stdout.write(
      options.json === true ? renderJson(added) : `Registered signing key "${added.keyId}"\n`,
    )
  })

  adminOptions(
    pubkey
      .command('list')
      .description('list your signing keys, revoked ones included')
      .option('--operator', 'as the operator (operator token): the keys of --tenant')
      .option('--tenant <name|id>', 'with --operator: whose keys')
      .option('--json', 'print JSON'),
  ).action(async (options: PubkeyOptions, command: Command) => {
    const client = clientOf(io, command, options)
    let answer: { signingKeys: AdminSigningKey[] }
    if (options.operator === true) {
      if (options.tenant === undefined) {
        command.error('--operator needs --tenant <name|id>', { exitCode: 2 })
      }
      answer = await client.asOperator(
        'GET',
        `/admin/v1/signing-keys?tenant=${encodeURIComponent(options.tenant ?? '')}`,
      )
    } else {
      if (options.tenant !== undefined) {
        command.error('--tenant needs --operator: as a tenant you see your own keys', {
          exitCode: 2,
        })
      }
      answer = await client.asTenant('GET', '/admin/v1/tenant/signing-keys')
    }
    const keys = answer.signingKeys
    io.stdout.write(
      options.json === true
        ? renderJson(keys)
        : renderTable(
            [
              { header: 'KEY ID', value: (k: AdminSigningKey) => k.keyId },
              { header: 'STATUS', value: (k) => (k.revokedAt === null ? 'active' : 'revoked') },
              { header: 'CREATED', value: (k) => k.createdAt },
              { header: 'REVOKED', value: (k) => k.revokedAt ?? '-' },
            ],
            keys,
          ),
    )
  })

  adminOptions(
    pubkey
      .command('revoke')
      .description('revoke a signing key (kept for audit; instructions it signs are refused)')
      .argument('<keyId>', 'the key id (ed25519:…)')
      .option('--operator', "as the operator (operator token): any tenant's key")
      .option('--json', 'print JSON'),
  ).action(async (keyId: string, options: PubkeyOptions, command: Command) => {
    const client = clientOf(io, command, options)
    const path = encodeURIComponent(keyId)
    const revoked =
      options.operator === true
        ? await client.asOperator<AdminSigningKey>('DELETE', `/admin/v1/signing-keys/${path}`)
        : await client.asTenant<AdminSigningKey>('DELETE', `/admin/v1/tenant/signing-keys/${path}`)
    io.stdout.write(
      options.json === true ? renderJson(revoked) : `Revoked signing key "${revoked.keyId}"\n`,
    )
  })
}
