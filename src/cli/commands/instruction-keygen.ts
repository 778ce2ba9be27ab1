import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { keygen } from '../../residency/index.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

/** File names `instruction keygen` writes. */
export const PRIVATE_KEY_FILE = 'signing-key.pem'
export const PUBLIC_KEY_FILE = 'signing-key.pub.pem'

/**
 * `sovra instruction keygen --out DIR`: the customer's side, offline. Writes an Ed25519 key pair;
 * the private key (0600) never leaves this machine, the public key is registered with the tenant.
 */
export function registerInstructionKeygen(instruction: Command, io: CliIo): void {
  instruction
    .command('keygen')
    .description('make an Ed25519 key pair for signing transfer instructions (offline)')
    .requiredOption(
      '--out <dir>',
      'folder for signing-key.pem (private, 0600) and signing-key.pub.pem',
    )
    .option('--json', 'print JSON')
    .action((options: { out: string; json?: boolean }) => {
      const privatePath = join(options.out, PRIVATE_KEY_FILE)
      const publicPath = join(options.out, PUBLIC_KEY_FILE)
      for (const path of [privatePath, publicPath]) {
        if (existsSync(path)) throw new Error(`Cannot write "${path}": it already exists`)
      }
      mkdirSync(options.out, { recursive: true, mode: 0o700 })
      const pair = keygen()
      writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' })
      writeFileSync(publicPath, pair.publicKeyPem, { mode: 0o644, flag: 'wx' })
      const out = { keyId: pair.keyId, privateKey: privatePath, publicKey: publicPath }
      io.stdout.write(
        options.json === true
          ? renderJson(out)
          : `Key id:       ${out.keyId}\nPrivate key:  ${privatePath} (keep it; never send it)\nPublic key:   ${publicPath} (register it: sovra tenant pubkey add)\n`,
      )
    })
}
