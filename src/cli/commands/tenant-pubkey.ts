import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { SigningKeyRecord } from '../../directory/index.js'
import type { CliIo } from '../cli-io.js'
import { formatTime, renderJson, renderTable } from '../output/index.js'
import { DATA_DIR_OPTION, withTransfers } from '../transfer-context.js'

/** `sovra tenant pubkey add|list|revoke`: Ed25519 keys that sign a tenant's transfer instructions. */
export function registerTenantPubkey(tenant: Command, io: CliIo): void {
  const pubkey = tenant
    .command('pubkey')
    .description("signing keys of a tenant's transfer instructions (public keys only)")

  pubkey
    .command('add')
    .description('register a public key (SPKI PEM file, or the raw key in base64)')
    .argument('<tenant>', 'tenant name or id')
    .argument('<key>', 'a .pem file, or the raw 32-byte public key in base64/base64url')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(
      async (tenantName: string, key: string, options: { json?: boolean }, command: Command) => {
        const text = existsSync(key) ? readFileSync(key, 'utf8') : key
        if (text.includes('PRIVATE KEY')) {
          throw new Error(
            'Cannot register a private key: give the public key (signing-key.pub.pem)',
          )
        }
        const added = await withTransfers(io, command, (t) => t.addPublicKey(tenantName, text))
        io.stdout.write(
          options.json === true ? renderJson(added) : `Registered signing key "${added.keyId}"\n`,
        )
      },
    )

  pubkey
    .command('list')
    .description('list signing keys, revoked ones included')
    .argument('<tenant>', 'tenant name or id')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (tenantName: string, options: { json?: boolean }, command: Command) => {
      const keys = await withTransfers(io, command, (t) => t.listPublicKeys(tenantName))
      io.stdout.write(
        options.json === true
          ? renderJson(keys)
          : renderTable(
              [
                { header: 'KEY ID', value: (k: SigningKeyRecord) => k.keyId },
                { header: 'STATUS', value: (k) => (k.revokedAt === null ? 'active' : 'revoked') },
                { header: 'CREATED', value: (k) => formatTime(k.createdAt) },
                { header: 'REVOKED', value: (k) => formatTime(k.revokedAt) },
              ],
              keys,
            ),
      )
    })

  pubkey
    .command('revoke')
    .description('revoke a signing key (kept for audit; instructions it signs are refused)')
    .argument('<keyId>', 'the key id (ed25519:…)')
    .option('--tenant <name|id>', 'the tenant that must own the key')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(
      async (keyId: string, options: { tenant?: string; json?: boolean }, command: Command) => {
        const revoked = await withTransfers(io, command, (t) =>
          t.revokePublicKey(keyId, options.tenant),
        )
        io.stdout.write(
          options.json === true ? renderJson(revoked) : `Revoked signing key "${revoked.keyId}"\n`,
        )
      },
    )
}
