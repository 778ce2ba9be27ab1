import { formatAmzDate } from './amz-date.js'
import type { ChunkSigning } from './aws-chunked.js'
import {
  ALGORITHM,
  canonicalQueryString,
  canonicalRequest,
  credentialScope,
  EMPTY_SHA256,
  sha256Hex,
  signString,
  splitQuery,
  splitTarget,
  stringToSign,
  UNSIGNED_PAYLOAD,
  uriEncode,
} from './canonical-request.js'
import { deriveSigningKey } from './signing-key.js'

// Headers proxies and HTTP stacks rewrite, so signing them breaks signatures (as in the AWS SDKs).
const UNSIGNABLE = new Set([
  'authorization',
  'connection',
  'expect',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
])

/** Credentials, region and clock a signature is made with. */
export interface SigningIdentity {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly region: string
  /** Signing time, in ms since the epoch. */
  readonly now: number
  /** Defaults to `s3`. */
  readonly service?: string
}

/** A request to sign with an Authorization header. */
export interface SignRequestInput extends SigningIdentity {
  readonly method: string
  /** `http(s)://host/path?query`, `host/path?query`, or a target `/path?query` with a `host` header; percent-encoded. */
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  /** Hashed for `x-amz-content-sha256` unless `payloadHash` is given. */
  readonly body?: string | Uint8Array
  /** `x-amz-content-sha256` verbatim, e.g. `UNSIGNED-PAYLOAD` or `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`. */
  readonly payloadHash?: string
}

/** The headers to add to a request, and the seed for signing aws-chunked data after it. */
export interface SignedRequestHeaders {
  /** `authorization`, `x-amz-date`, `x-amz-content-sha256`, and `host` when it came from the URL. */
  readonly headers: Record<string, string>
  readonly signature: string
  /** Seed for `encodeAwsChunked` when the payload hash is a `STREAMING-AWS4-HMAC-SHA256-*` value. */
  readonly chunkSigning: ChunkSigning
}

/** A request to presign. */
export interface PresignUrlInput extends SigningIdentity {
  readonly method: string
  /** `http(s)://host/path?query` or `host/path?query`, percent-encoded. */
  readonly url: string
  readonly expiresSeconds: number
  /** Extra headers the URL's user must send verbatim; they are signed. */
  readonly headers?: Readonly<Record<string, string>>
}

function splitUrl(url: string): { origin: string; host: string | undefined; target: string } {
  if (url.startsWith('/')) return { origin: '', host: undefined, target: url }
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(url)?.[0] ?? ''
  const rest = url.slice(scheme.length)
  const cut = rest.search(/[/?]/)
  const host = cut === -1 ? rest : rest.slice(0, cut)
  const target = cut === -1 ? '/' : rest.slice(cut)
  return {
    origin: `${scheme}${host}`,
    host,
    target: target.startsWith('?') ? `/${target}` : target,
  }
}

function lowerHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value
  return out
}

function signedNames(headers: Readonly<Record<string, string>>): string[] {
  return Object.keys(headers)
    .filter((name) => !UNSIGNABLE.has(name))
    .sort()
}

/** Sign a request with SigV4 (Authorization header), as an S3 client would. */
export function signRequestHeaders(input: SignRequestInput): SignedRequestHeaders {
  const service = input.service ?? 's3'
  const { host, target } = splitUrl(input.url)
  const headers = lowerHeaders(input.headers)
  const added: Record<string, string> = {}
  if (headers.host === undefined) {
    if (host === undefined) {
      throw new TypeError(
        `Cannot sign '${input.url}': it names no host and no 'host' header is given`,
      )
    }
    added.host = host
  }
  const amzDate = formatAmzDate(input.now)
  const payloadHash =
    input.payloadHash ?? (input.body === undefined ? EMPTY_SHA256 : sha256Hex(input.body))
  added['x-amz-date'] = amzDate
  added['x-amz-content-sha256'] = payloadHash
  const all = { ...headers, ...added }
  const signedHeaders = signedNames(all)
  const { path, query } = splitTarget(target)
  const scope = credentialScope(amzDate.slice(0, 8), input.region, service)
  const signingKey = deriveSigningKey(
    input.secretAccessKey,
    amzDate.slice(0, 8),
    input.region,
    service,
  )
  const canonical = canonicalRequest({
    method: input.method,
    path,
    canonicalQuery: canonicalQueryString(splitQuery(query)),
    headers: all,
    signedHeaders,
    payloadHash,
  })
  const signature = signString(signingKey, stringToSign(amzDate, scope, canonical))
  added.authorization = `${ALGORITHM} Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`
  return {
    headers: added,
    signature,
    chunkSigning: { signingKey, seedSignature: signature, amzDate, scope },
  }
}

/** Presign a URL with SigV4 query parameters (payload `UNSIGNED-PAYLOAD`), as an S3 client would. */
export function presignUrl(input: PresignUrlInput): string {
  const service = input.service ?? 's3'
  const { origin, host, target } = splitUrl(input.url)
  if (host === undefined) throw new TypeError(`Cannot presign '${input.url}': it names no host`)
  const headers = { ...lowerHeaders(input.headers), host }
  const signedHeaders = signedNames(headers)
  const amzDate = formatAmzDate(input.now)
  const scope = credentialScope(amzDate.slice(0, 8), input.region, service)
  const { path, query } = splitTarget(target)
  const auth = [
    `X-Amz-Algorithm=${ALGORITHM}`,
    `X-Amz-Credential=${uriEncode(`${input.accessKeyId}/${scope}`)}`,
    `X-Amz-Date=${amzDate}`,
    `X-Amz-Expires=${input.expiresSeconds}`,
    `X-Amz-SignedHeaders=${uriEncode(signedHeaders.join(';'))}`,
  ].join('&')
  const fullQuery = query === '' ? auth : `${query}&${auth}`
  const canonical = canonicalRequest({
    method: input.method,
    path,
    canonicalQuery: canonicalQueryString(splitQuery(fullQuery)),
    headers,
    signedHeaders,
    payloadHash: UNSIGNED_PAYLOAD,
  })
  const signingKey = deriveSigningKey(
    input.secretAccessKey,
    amzDate.slice(0, 8),
    input.region,
    service,
  )
  const signature = signString(signingKey, stringToSign(amzDate, scope, canonical))
  return `${origin}${path}?${fullQuery}&X-Amz-Signature=${signature}`
}

/** Options for `encodeAwsChunked`. */
export interface EncodeAwsChunkedOptions {
  /** Split a single buffer into chunks of this size (default 64 KiB). */
  readonly chunkSize?: number
  /** Sign each chunk (and the trailers) from this seed; unsigned framing when absent. */
  readonly signing?: ChunkSigning
  /** Trailer headers to append after the final chunk (e.g. `x-amz-checksum-crc32`). */
  readonly trailers?: Readonly<Record<string, string>>
}

/** Frame data as an aws-chunked body, as SDKs send it (signed or not, with or without trailers). */
export function encodeAwsChunked(
  data: Uint8Array | readonly Uint8Array[],
  options: EncodeAwsChunkedOptions = {},
): Buffer {
  const chunkSize = options.chunkSize ?? 65_536
  const chunks: Uint8Array[] = []
  if (data instanceof Uint8Array) {
    for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize))
  } else {
    chunks.push(...data.filter((c) => c.length > 0))
  }
  chunks.push(new Uint8Array(0))
  const { signing } = options
  let previous = signing?.seedSignature ?? ''
  const parts: (string | Uint8Array)[] = []
  for (const chunk of chunks) {
    let header = chunk.length.toString(16)
    if (signing !== undefined) {
      previous = signString(
        signing.signingKey,
        `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${previous}\n${EMPTY_SHA256}\n${sha256Hex(chunk)}`,
      )
      header += `;chunk-signature=${previous}`
    }
    parts.push(`${header}\r\n`)
    if (chunk.length > 0) parts.push(chunk, '\r\n')
  }
  if (options.trailers !== undefined) {
    let canonical = ''
    for (const [name, value] of Object.entries(options.trailers)) {
      canonical += `${name.toLowerCase()}:${value}\n`
      parts.push(`${name.toLowerCase()}:${value}\r\n`)
    }
    if (signing !== undefined) {
      const signature = signString(
        signing.signingKey,
        `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${previous}\n${sha256Hex(canonical)}`,
      )
      parts.push(`x-amz-trailer-signature:${signature}\r\n`)
    }
  }
  parts.push('\r\n')
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)))
}
