import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmod, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createFileOnce, readIfExists } from '../core/index.js'
import { DirectoryErrors } from './directory-error.js'

/** Version prefix of encrypted secrets; a new scheme gets a new prefix and a decode path. */
const VERSION = 'v1'
const KEY_BYTES = 32
const NONCE_BYTES = 12

/** Where the directory's secrets key lives under the data dir. */
export function secretsKeyPath(dataDir: string): string {
  return join(dataDir, 'keys', 'directory-secrets.key')
}

/**
 * Encrypts access key secrets at rest with AES-256-GCM: a random 12-byte nonce per secret and
 * the access key id as additional data, so a ciphertext cannot be moved to another key's row.
 */
export class SecretsCipher {
  readonly #key: Buffer

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw DirectoryErrors.secretsUnavailable(`expected "${KEY_BYTES}" bytes, got "${key.length}"`)
    }
    this.#key = key
  }

  /** Loads the key file, creating it (mode 0600, folder 0700) on first use. */
  static async open(dataDir: string): Promise<SecretsCipher> {
    return new SecretsCipher(await loadOrCreateKey(secretsKeyPath(dataDir)))
  }

  /** `v1:<nonce>:<ciphertext>:<tag>`, each part base64. */
  encrypt(plaintext: string, accessKeyId: string): string {
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce)
    cipher.setAAD(Buffer.from(accessKeyId, 'utf8'))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return [
      VERSION,
      nonce.toString('base64'),
      body.toString('base64'),
      tag.toString('base64'),
    ].join(':')
  }

  /** Reverses `encrypt`; fails when the key, the id or the ciphertext do not match. */
  decrypt(stored: string, accessKeyId: string): string {
    const [version, nonce, body, tag] = stored.split(':')
    if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined) {
      throw DirectoryErrors.secretsUnavailable(
        `secret of access key "${accessKeyId}" has unknown format "${version ?? ''}"`,
      )
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(nonce, 'base64'))
      decipher.setAAD(Buffer.from(accessKeyId, 'utf8'))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64')),
        decipher.final(),
      ]).toString('utf8')
    } catch (err) {
      throw DirectoryErrors.secretsUnavailable(
        `secret of access key "${accessKeyId}" does not decrypt with this key file`,
        err,
      )
    }
  }
}

/**
 * Reads the key, or creates it atomically (temp file, fsync, hard link into place), so that two
 * processes starting at once (server and CLI) agree on one key.
 */
async function loadOrCreateKey(path: string): Promise<Buffer> {
  const existing = await readIfExists(path)
  if (existing !== undefined) return parseKey(existing, path)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  await chmod(dirname(path), 0o700)
  return parseKey(
    await createFileOnce(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`, {
      dirMode: 0o700,
    }),
    path,
  )
}

function parseKey(content: string, path: string): Buffer {
  const text = content.trim()
  const key = Buffer.from(text, 'base64')
  if (key.length !== KEY_BYTES) {
    throw DirectoryErrors.secretsUnavailable(
      `key file "${path}" does not hold a 32-byte base64 key`,
    )
  }
  return key
}
