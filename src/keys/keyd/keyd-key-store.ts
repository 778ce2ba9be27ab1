import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { atomicWrite, readIfExists } from '../../core/index.js'

/** A Transit key as keyd keeps it (the `GET /keys/:name` shape, plus the key material). */
export interface KeydKey {
  readonly name: string
  readonly type: 'aes256-gcm96'
  readonly derived: boolean
  readonly deletionAllowed: boolean
  readonly minDecryptionVersion: number
  readonly minEncryptionVersion: number
  readonly latestVersion: number
  /** Version → { key material (base64), creation time (unix seconds) }. */
  readonly versions: Readonly<Record<string, { readonly key: string; readonly created: number }>>
}

interface StateFile {
  readonly format: 'sovra-keyd-keys'
  readonly version: 1
  readonly keys: Readonly<Record<string, KeydKey>>
}

/** Why a Transit cryptographic operation failed, in Vault's words. */
export class TransitFailure extends Error {
  override readonly name = 'TransitFailure'
}

/**
 * keyd's keys, persisted in one JSON file (0600, replaced atomically: temp → fsync → rename →
 * fsync folder). The key material sits in that file in the clear, protected by file permissions
 * on the customer's own machine; sealing it under an HSM or passphrase is future work.
 */
export class KeydKeyStore {
  readonly #path: string
  #keys: Map<string, KeydKey>
  #tail: Promise<void> = Promise.resolve()

  private constructor(path: string, keys: Map<string, KeydKey>) {
    this.#path = path
    this.#keys = keys
  }

  static async open(path: string): Promise<KeydKeyStore> {
    const text = await readIfExists(path)
    if (text === undefined) return new KeydKeyStore(path, new Map())
    const state = JSON.parse(text) as Partial<StateFile>
    if (
      state.format !== 'sovra-keyd-keys' ||
      state.version !== 1 ||
      typeof state.keys !== 'object'
    ) {
      throw new SyntaxError(`keyd state file "${path}" has an unknown format`)
    }
    return new KeydKeyStore(path, new Map(Object.entries(state.keys ?? {})))
  }

  /** Key names, sorted. */
  names(): string[] {
    return [...this.#keys.keys()].sort()
  }

  get(name: string): KeydKey | undefined {
    return this.#keys.get(name)
  }

  /** Creates a key with version 1; false when it already exists (Vault answers 204 either way). */
  async create(name: string, options: { readonly derived: boolean }): Promise<boolean> {
    let created = false
    await this.#update(name, (current) => {
      if (current !== undefined) return current
      created = true
      return {
        name,
        type: 'aes256-gcm96',
        derived: options.derived,
        deletionAllowed: false,
        minDecryptionVersion: 1,
        minEncryptionVersion: 0,
        latestVersion: 1,
        versions: { 1: newVersion() },
      }
    })
    return created
  }

  /** Adds a key version and makes it the one `encrypt` uses. */
  async rotate(name: string): Promise<void> {
    await this.#update(name, (current) => {
      const key = required(current)
      const next = key.latestVersion + 1
      return { ...key, latestVersion: next, versions: { ...key.versions, [next]: newVersion() } }
    })
  }

  /** Changes the key's policy (the `/config` endpoint). */
  async configure(
    name: string,
    patch: Partial<
      Pick<KeydKey, 'deletionAllowed' | 'minDecryptionVersion' | 'minEncryptionVersion'>
    >,
  ): Promise<void> {
    await this.#update(name, (current) => ({ ...required(current), ...patch }))
  }

  /** Deletes a key and its material for good; refused unless `deletionAllowed`. */
  async delete(name: string): Promise<void> {
    await this.#update(name, (current) => {
      if (!required(current).deletionAllowed) {
        throw new TransitFailure('deletion is not allowed for this key')
      }
      return undefined
    })
  }

  /** Encrypts under the latest (or given) version: `vault:v<N>:base64(nonce ‖ ciphertext ‖ tag)`. */
  encrypt(
    key: KeydKey,
    input: {
      plaintext: Buffer
      context: Buffer | undefined
      aad: Buffer | undefined
      version?: number
    },
  ): { ciphertext: string; version: number } {
    const version =
      input.version === undefined || input.version === 0 ? key.latestVersion : input.version
    if (version < key.minEncryptionVersion || version > key.latestVersion) {
      throw new TransitFailure('requested version for encryption is not allowed by policy')
    }
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#keyFor(key, version, input.context), nonce)
    if (input.aad !== undefined) cipher.setAAD(input.aad)
    const body = Buffer.concat([cipher.update(input.plaintext), cipher.final()])
    const blob = Buffer.concat([nonce, body, cipher.getAuthTag()])
    return { ciphertext: `vault:v${version}:${blob.toString('base64')}`, version }
  }

  /** Decrypts a `vault:v<N>:…` ciphertext; throws TransitFailure with Vault's messages. */
  decrypt(
    key: KeydKey,
    input: { ciphertext: string; context: Buffer | undefined; aad: Buffer | undefined },
  ): { plaintext: Buffer; version: number } {
    const m = /^vault:v(\d{1,9}):([A-Za-z0-9+/=]+)$/.exec(input.ciphertext)
    if (m === null) throw new TransitFailure('invalid ciphertext: no prefix')
    const version = Number(m[1])
    if (version < key.minDecryptionVersion) {
      throw new TransitFailure('ciphertext or signature version is disallowed by policy (too old)')
    }
    if (key.versions[version] === undefined) throw new TransitFailure('invalid key version')
    const blob = Buffer.from(m[2] as string, 'base64')
    if (blob.length < 28) throw new TransitFailure('invalid ciphertext: too short')
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.#keyFor(key, version, input.context),
        blob.subarray(0, 12),
      )
      if (input.aad !== undefined) decipher.setAAD(input.aad)
      decipher.setAuthTag(blob.subarray(blob.length - 16))
      const plaintext = Buffer.concat([
        decipher.update(blob.subarray(12, blob.length - 16)),
        decipher.final(),
      ])
      return { plaintext, version }
    } catch {
      throw new TransitFailure('cipher: message authentication failed')
    }
  }

  /** A derived key is HKDF-SHA256(key material, info = label ‖ context), as Transit derives per context. */
  #keyFor(key: KeydKey, version: number, context: Buffer | undefined): Buffer {
    const material = Buffer.from((key.versions[version] as { key: string }).key, 'base64')
    if (!key.derived) return material
    if (context === undefined || context.length === 0) {
      throw new TransitFailure(
        "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
      )
    }
    const info = Buffer.concat([Buffer.from('sovra-keyd/derive/v1\0'), context])
    return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), info, 32))
  }

  /** Applies one change (serialized) and persists the whole state before it becomes visible. */
  async #update(
    name: string,
    change: (current: KeydKey | undefined) => KeydKey | undefined,
  ): Promise<void> {
    const run = this.#tail.then(async () => {
      const value = change(this.#keys.get(name))
      const next = new Map(this.#keys)
      if (value === undefined) next.delete(name)
      else next.set(name, value)
      const state: StateFile = {
        format: 'sovra-keyd-keys',
        version: 1,
        keys: Object.fromEntries(next),
      }
      await atomicWrite(this.#path, `${JSON.stringify(state)}\n`, { dirMode: 0o700 })
      this.#keys = next
    })
    this.#tail = run.catch(() => undefined)
    await run
  }
}

function required(key: KeydKey | undefined): KeydKey {
  if (key === undefined) throw new TransitFailure('encryption key not found')
  return key
}

function newVersion(): { key: string; created: number } {
  return { key: randomBytes(32).toString('base64'), created: Math.floor(Date.now() / 1000) }
}
