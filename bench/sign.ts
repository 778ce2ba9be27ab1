// Minimal SigV4 signer for the load generator: header auth with UNSIGNED-PAYLOAD and presigned URLs.
// Kept independent of src/ on purpose (lean, signing key cached per day) so the client stays cheap
// and the benchmark does not move when the server's own signer changes.
import { createHash, createHmac } from 'node:crypto'

export interface Creds {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly region: string
}

const UNSIGNED = 'UNSIGNED-PAYLOAD'

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

/** RFC 3986 encoding as SigV4 wants it (`/` kept in paths when `keepSlash`). */
export function uriEncode(s: string, keepSlash = false): string {
  let out = ''
  for (const ch of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(ch)
    if (/[A-Za-z0-9_.~-]/.test(c) || (keepSlash && c === '/')) out += c
    else out += `%${ch.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Builds an already-encoded, sorted query string from pairs (the canonical form is then itself). */
export function encodeQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(params[k] as string)}`)
    .join('&')
}

export class Signer {
  readonly #creds: Creds
  readonly #host: string
  #day = ''
  #key: Buffer = Buffer.alloc(0)
  #lastSecond = -1
  #amzDate = ''

  constructor(creds: Creds, host: string) {
    this.#creds = creds
    this.#host = host
  }

  #date(): string {
    const sec = Math.floor(Date.now() / 1000)
    if (sec !== this.#lastSecond) {
      this.#lastSecond = sec
      this.#amzDate = new Date(sec * 1000)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')
      const day = this.#amzDate.slice(0, 8)
      if (day !== this.#day) {
        this.#day = day
        const kDate = hmac(`AWS4${this.#creds.secretAccessKey}`, day)
        const kRegion = hmac(kDate, this.#creds.region)
        const kService = hmac(kRegion, 's3')
        this.#key = hmac(kService, 'aws4_request')
      }
    }
    return this.#amzDate
  }

  #scope(amzDate: string): string {
    return `${amzDate.slice(0, 8)}/${this.#creds.region}/s3/aws4_request`
  }

  #sign(amzDate: string, canonical: string): string {
    const sts = `AWS4-HMAC-SHA256\n${amzDate}\n${this.#scope(amzDate)}\n${createHash('sha256').update(canonical).digest('hex')}`
    return createHmac('sha256', this.#key).update(sts).digest('hex')
  }

  /**
   * Headers for a request with header auth. `path` is the encoded path, `query` the encoded sorted
   * query (from `encodeQuery`), payload UNSIGNED-PAYLOAD unless `payloadHash` is given.
   */
  headers(
    method: string,
    path: string,
    query = '',
    payloadHash = UNSIGNED,
  ): Record<string, string> {
    const amzDate = this.#date()
    const canonical = `${method}\n${path}\n${query}\nhost:${this.#host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n\nhost;x-amz-content-sha256;x-amz-date\n${payloadHash}`
    const sig = this.#sign(amzDate, canonical)
    return {
      host: this.#host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.#creds.accessKeyId}/${this.#scope(amzDate)}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${sig}`,
    }
  }

  /** A presigned request target (`/path?query`) for replay by wrk; signs only `host`. */
  presign(method: string, path: string, expiresSeconds = 3600): string {
    const amzDate = this.#date()
    const query = [
      'X-Amz-Algorithm=AWS4-HMAC-SHA256',
      `X-Amz-Credential=${uriEncode(`${this.#creds.accessKeyId}/${this.#scope(amzDate)}`)}`,
      `X-Amz-Date=${amzDate}`,
      `X-Amz-Expires=${expiresSeconds}`,
      'X-Amz-SignedHeaders=host',
    ].join('&')
    const canonical = `${method}\n${path}\n${query}\nhost:${this.#host}\n\nhost\n${UNSIGNED}`
    return `${path}?${query}&X-Amz-Signature=${this.#sign(amzDate, canonical)}`
  }
}
