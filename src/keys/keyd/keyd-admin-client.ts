/** A Transit key as `GET /keys/:name` describes it (the fields the admin commands show). */
export interface KeydKeyInfo {
  readonly name: string
  readonly latestVersion: number
  readonly minDecryptionVersion: number
  readonly minEncryptionVersion: number
  readonly derived: boolean
  readonly deletionAllowed: boolean
}

/**
 * The customer's admin side of keyd (or Vault Transit): create, rotate, list and revoke keys
 * over HTTP with the admin token. Errors are Errors whose message carries Transit's `errors`.
 */
export class KeydAdminClient {
  readonly #base: string
  readonly #token: string

  constructor(options: {
    readonly address: string
    readonly token: string
    readonly mount?: string
  }) {
    const url = new URL(options.address)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RangeError(`keyd address "${options.address}" is not http(s)`)
    }
    const mount = (options.mount ?? 'transit').replace(/^\/+|\/+$/g, '')
    this.#base = `${options.address.replace(/\/+$/, '')}/v1/${mount}`
    this.#token = options.token
  }

  /** Creates a derived aes256-gcm96 key (a no-op when it exists, as in Vault). */
  async create(name: string): Promise<KeydKeyInfo> {
    await this.#call('POST', `keys/${encodeURIComponent(name)}`, {
      type: 'aes256-gcm96',
      derived: true,
    })
    return this.read(name)
  }

  /** Adds a key version; new data keys are wrapped under it. */
  async rotate(name: string): Promise<KeydKeyInfo> {
    await this.#call('POST', `keys/${encodeURIComponent(name)}/rotate`)
    return this.read(name)
  }

  /**
   * Revokes every data key wrapped so far: rotates, then raises `min_decryption_version` to the
   * new version, so unwraps of older ciphertexts are refused ("disallowed by policy", which
   * Sovra reports as `KeyDisabled`). Works the same against Vault Transit.
   */
  async revoke(name: string): Promise<KeydKeyInfo> {
    const rotated = await this.rotate(name)
    await this.#call('POST', `keys/${encodeURIComponent(name)}/config`, {
      min_decryption_version: rotated.latestVersion,
    })
    return this.read(name)
  }

  async read(name: string): Promise<KeydKeyInfo> {
    const data = await this.#call('GET', `keys/${encodeURIComponent(name)}`)
    return {
      name: String(data?.name ?? name),
      latestVersion: Number(data?.latest_version),
      minDecryptionVersion: Number(data?.min_decryption_version),
      minEncryptionVersion: Number(data?.min_encryption_version),
      derived: data?.derived === true,
      deletionAllowed: data?.deletion_allowed === true,
    }
  }

  /** Every key, described (an empty list when there is none). */
  async list(): Promise<KeydKeyInfo[]> {
    const data = await this.#call('GET', 'keys?list=true', undefined, { notFoundIsEmpty: true })
    const names = Array.isArray(data?.keys) ? data.keys.map(String) : []
    return Promise.all(names.map((n) => this.read(n)))
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
    options: { notFoundIsEmpty?: boolean } = {},
  ): Promise<Record<string, unknown> | undefined> {
    let res: Response
    try {
      res = await fetch(`${this.#base}/${path}`, {
        method,
        headers: { 'x-vault-token': this.#token, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code
      throw new Error(`Cannot reach keyd at "${this.#base}": ${cause ?? String(err)}`)
    }
    const text = await res.text()
    let parsed: { data?: Record<string, unknown>; errors?: unknown } = {}
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as typeof parsed)
    } catch {
      // not JSON: reported below by status
    }
    if (res.status === 404 && options.notFoundIsEmpty === true) return undefined
    if (res.status >= 300) {
      const said = Array.isArray(parsed.errors) ? parsed.errors.map(String).join('; ') : ''
      throw new Error(
        `keyd refused ${method} ${path.split('?')[0]}: HTTP ${res.status}${said === '' ? '' : `: ${said}`}`,
      )
    }
    return parsed.data
  }
}
