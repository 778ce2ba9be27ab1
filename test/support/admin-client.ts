import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'

/** A JSON admin API answer. */
export interface AdminResponse {
  readonly status: number
  readonly headers: Headers
  readonly json: Record<string, unknown>
}

/** How `adminCall` authenticates: an operator token, a tenant's S3 key (SigV4), or nothing. */
export interface AdminCallOptions {
  readonly method?: string
  readonly body?: unknown
  readonly token?: string
  readonly sigv4?: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

/** node:crypto as the `Checksum` constructor the AWS SDK's signer takes. */
type SourceData = string | ArrayBuffer | ArrayBufferView

const bytesOf = (data: SourceData): Uint8Array | string =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data)

class NodeSha256 {
  #hash: Hash | Hmac
  readonly #secret: Uint8Array | string | undefined
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytesOf(secret)
    this.#hash = this.#fresh()
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret)
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
  reset(): void {
    this.#hash = this.#fresh()
  }
}

/** Calls the admin API with fetch; a tenant's request is signed by the AWS SDK's SignatureV4. */
export async function adminCall(
  base: string,
  path: string,
  options: AdminCallOptions = {},
): Promise<AdminResponse> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST')
  const body = options.body === undefined ? undefined : JSON.stringify(options.body)
  let headers: Record<string, string> =
    body === undefined ? {} : { 'content-type': 'application/json' }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.sigv4 !== undefined) {
    const url = new URL(path, base)
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: options.sigv4,
      sha256: NodeSha256,
      applyChecksum: true,
      // Service "s3": the path is signed as sent, not encoded a second time (S3's SigV4 rule).
      uriEscapePath: false,
    })
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    })
    headers = signed.headers
  }
  const res = await fetch(new URL(path, base), {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: text === '' ? {} : JSON.parse(text) }
}
