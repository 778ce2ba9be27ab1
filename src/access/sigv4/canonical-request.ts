import { createHmac, hash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/** The only algorithm this module speaks. */
export const ALGORITHM = 'AWS4-HMAC-SHA256'
/** Hex SHA-256 of the empty string. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
/** Payload hash of presigned URLs and of bodies the client chose not to hash. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

const HEX = '0123456789ABCDEF'
const UNRESERVED = new Uint8Array(128)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') {
  UNRESERVED[c.charCodeAt(0)] = 1
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 65 && code <= 70) return code - 55
  if (code >= 97 && code <= 102) return code - 87
  return -1
}

/** Decode valid `%XX` escapes to bytes (a stray `%` and `+` stay literal) and UTF-8 encode the rest. */
export function percentDecodeBytes(s: string): Buffer {
  if (!s.includes('%')) return Buffer.from(s, 'utf8')
  const out: number[] = []
  let i = 0
  while (i < s.length) {
    const code = s.charCodeAt(i)
    if (code === 37 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1))
      const lo = hexValue(s.charCodeAt(i + 2))
      if (hi >= 0 && lo >= 0) {
        out.push(hi * 16 + lo)
        i += 3
        continue
      }
    }
    if (code < 128) {
      out.push(code)
      i += 1
    } else {
      const cp = s.codePointAt(i) ?? code
      const len = cp > 0xffff ? 2 : 1
      for (const b of Buffer.from(s.slice(i, i + len), 'utf8')) out.push(b)
      i += len
    }
  }
  return Buffer.from(out)
}

/** RFC 3986 encoding of bytes: unreserved characters stay, everything else becomes `%XX` (upper case). */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) {
    if (b < 128 && UNRESERVED[b] === 1) out += String.fromCharCode(b)
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`
  }
  return out
}

/** RFC 3986 encoding of a string's UTF-8 bytes (what SigV4 calls UriEncode with `/` encoded). */
export function uriEncode(s: string): string {
  return uriEncodeBytes(Buffer.from(s, 'utf8'))
}

/** One query parameter, raw (still percent-encoded) as received. */
export interface RawQueryParam {
  readonly name: string
  readonly value: string
}

/** Split a raw query string (without `?`) into its parameters; `k` alone is `k=`. */
export function splitQuery(rawQuery: string): RawQueryParam[] {
  const params: RawQueryParam[] = []
  if (rawQuery === '') return params
  for (const part of rawQuery.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq === -1) params.push({ name: part, value: '' })
    else params.push({ name: part.slice(0, eq), value: part.slice(eq + 1) })
  }
  return params
}

/** The decoded value of query parameter `name` (first occurrence), or undefined. */
export function queryParam(params: readonly RawQueryParam[], name: string): string | undefined {
  for (const p of params) {
    if (p.name !== name) continue
    return p.value.includes('%') ? percentDecodeBytes(p.value).toString('utf8') : p.value
  }
  return undefined
}

function isUnreserved(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    if (code >= 128 || UNRESERVED[code] !== 1) return false
  }
  return true
}

/** A raw query name or value in canonical form: decoded, then RFC 3986 encoded. */
function canonicalComponent(raw: string): string {
  // Unreserved characters decode and encode to themselves: most names and values are only that.
  return isUnreserved(raw) ? raw : uriEncodeBytes(percentDecodeBytes(raw))
}

/** SigV4 canonical query: names and values decoded, RFC 3986 encoded, sorted; `exclude` holds raw names. */
export function canonicalQueryString(
  params: readonly RawQueryParam[],
  exclude?: ReadonlySet<string>,
): string {
  const encoded: [string, string][] = []
  for (const p of params) {
    if (exclude?.has(p.name)) continue
    encoded.push([canonicalComponent(p.name), canonicalComponent(p.value)])
  }
  encoded.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  )
  return encoded.map(([k, v]) => `${k}=${v}`).join('&')
}

/** Split a request target into its raw path and raw query (both still percent-encoded). */
export function splitTarget(url: string): { path: string; query: string } {
  const hash = url.indexOf('#')
  const target = hash === -1 ? url : url.slice(0, hash)
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  return { path: path === '' ? '/' : path, query: q === -1 ? '' : target.slice(q + 1) }
}

function canonicalValue(value: string | readonly string[] | undefined): string {
  if (value === undefined) return ''
  if (typeof value === 'string') return value.trim().replace(/\s+/g, ' ')
  return value.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')
}

/** Canonical header block (`name:value\n` for each signed header, in the order given). */
export function canonicalHeaders(
  headers: IncomingHttpHeaders,
  signedHeaders: readonly string[],
): string {
  let out = ''
  for (const name of signedHeaders) out += `${name}:${canonicalValue(headers[name])}\n`
  return out
}

/** Everything a canonical request is built from. */
export interface CanonicalRequestInput {
  readonly method: string
  /** The raw path as received: S3 does not encode it again. */
  readonly path: string
  /** Already canonical query string (see `canonicalQueryString`). */
  readonly canonicalQuery: string
  readonly headers: IncomingHttpHeaders
  /** Lower-case signed header names, in the order the client listed them. */
  readonly signedHeaders: readonly string[]
  readonly payloadHash: string
}

/** The SigV4 canonical request for S3. */
export function canonicalRequest(input: CanonicalRequestInput): string {
  return [
    input.method,
    input.path,
    input.canonicalQuery,
    canonicalHeaders(input.headers, input.signedHeaders),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n')
}

/** Hex SHA-256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex')
}

/** HMAC-SHA256 of `data` under `key`. */
export function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

/** The credential scope `yyyymmdd/region/service/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`
}

/** The string to sign for a request, given its canonical request. */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`
}

/** Hex signature of `toSign` under a derived signing key. */
export function signString(signingKey: Uint8Array, toSign: string): string {
  return hmac(signingKey, toSign).toString('hex')
}

/** Constant-time comparison of two signatures (hex strings); false when lengths differ. */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'latin1')
  const b = Buffer.from(provided, 'latin1')
  return a.length === b.length && timingSafeEqual(a, b)
}
