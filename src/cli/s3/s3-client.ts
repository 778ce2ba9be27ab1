import { createHash } from 'node:crypto'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { signRequestHeaders } from '../../access/index.js'
import { decodeXmlText } from '../../core/index.js'
import type { TenantCredentials } from '../admin-client.js'

/**
 * The few S3 calls the CLI makes as a customer (ListObjectsV2, GetObject), signed with SigV4.
 * node:http rather than fetch: fetch's URL parser folds `..` path segments, which would change
 * the key of an object named `a/../b`. Keys are sent with every byte but unreserved ones
 * percent-encoded (`/` too), so no key can become a path segment of its own.
 */

/** One object of a listing. */
export interface ListedObject {
  readonly key: string
  readonly size: number
  /** Unquoted. */
  readonly etag: string
}

/** A GetObject answer whose body has not been read yet. */
export interface ObjectStream {
  readonly size: number
  /** Unquoted. */
  readonly etag: string
  readonly body: IncomingMessage
}

/** An S3 error answer: its code, message and status. */
export class S3CallError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(`${message} (${code})`)
    this.name = 'S3CallError'
    this.status = status
    this.code = code
  }
}

/** A small S3 client bound to one endpoint and one tenant key. */
export interface S3Client {
  /** ListObjectsV2 of the whole bucket, page by page, in key order. */
  listObjects(bucket: string): AsyncGenerator<readonly ListedObject[]>
  /**
   * GetObject. With a customer key, SSE-C headers are sent first; an object that is not SSE-C
   * refuses them (400 `InvalidRequest`), and is then fetched again without them.
   */
  getObject(bucket: string, key: string): Promise<ObjectStream>
}

const UNRESERVED = /[A-Za-z0-9\-._~]/

/** RFC 3986 percent-encoding of a key's UTF-8 bytes, `/` included. */
export function encodeKeyForPath(key: string): string {
  let out = ''
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte)
    out +=
      byte < 0x80 && UNRESERVED.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

const parser = new XMLParser({
  ignoreAttributes: true,
  processEntities: false,
  tagValueProcessor: (_name: string, value: string) => decodeXmlText(value),
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  isArray: (name) => name === 'Contents',
})

function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text) || XMLValidator.validate(text) !== true) {
    throw new Error('Cannot read the S3 answer: it is not well-formed XML')
  }
  return parser.parse(text) as Record<string, unknown>
}

const unquote = (etag: string): string => etag.replace(/^"|"$/g, '')

/** Builds a client for `endpoint` (`http://host:port`), path-style addressing. */
export function createS3Client(options: {
  readonly endpoint: string
  readonly credentials: TenantCredentials
  /** 32-byte SSE-C key for GetObject of objects written with one. */
  readonly sseCustomerKey?: Uint8Array
}): S3Client {
  const base = options.endpoint.replace(/\/+$/, '')
  const sseHeaders: Record<string, string> =
    options.sseCustomerKey === undefined
      ? {}
      : {
          'x-amz-server-side-encryption-customer-algorithm': 'AES256',
          'x-amz-server-side-encryption-customer-key': Buffer.from(options.sseCustomerKey).toString(
            'base64',
          ),
          'x-amz-server-side-encryption-customer-key-md5': createHash('md5')
            .update(options.sseCustomerKey)
            .digest('base64'),
        }

  const send = (target: string, headers: Record<string, string>): Promise<IncomingMessage> => {
    const url = `${base}${target}`
    const signed = signRequestHeaders({
      ...options.credentials,
      region: 'us-east-1',
      now: Date.now(),
      method: 'GET',
      url,
      headers,
    })
    const parsed = new URL(base)
    const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method: 'GET',
          host: parsed.hostname,
          port: parsed.port,
          path: target,
          headers: { ...headers, ...signed.headers },
        },
        resolve,
      )
      req.on('error', (err) =>
        reject(new Error(`Cannot reach S3 at "${base}": ${err.message}`, { cause: err })),
      )
      req.end()
    })
  }

  const failure = async (res: IncomingMessage, what: string): Promise<never> => {
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let code = String(res.statusCode)
    let message = `${what}: S3 answered ${res.statusCode}`
    try {
      const error = parseXml(text).Error as Record<string, string> | undefined
      if (error?.Code !== undefined) code = error.Code
      if (error?.Message !== undefined) message = `${what}: ${error.Message}`
    } catch {
      // not XML (a HEAD-like answer, a proxy): keep the status
    }
    throw new S3CallError(res.statusCode ?? 0, code, message)
  }

  return {
    async *listObjects(bucket) {
      let token: string | undefined
      for (;;) {
        const query = `list-type=2&encoding-type=url&max-keys=1000${
          token === undefined ? '' : `&continuation-token=${encodeURIComponent(token)}`
        }`
        const res = await send(`/${encodeKeyForPath(bucket)}?${query}`, {})
        if (res.statusCode !== 200) await failure(res, `Cannot list bucket "${bucket}"`)
        const chunks: Buffer[] = []
        for await (const chunk of res) chunks.push(chunk as Buffer)
        const result = parseXml(Buffer.concat(chunks).toString('utf8')).ListBucketResult as
          | Record<string, unknown>
          | undefined
        if (result === undefined) throw new Error('Cannot read the listing: no ListBucketResult')
        const contents = (result.Contents ?? []) as Array<Record<string, string>>
        yield contents.map((c) => ({
          key: decodeURIComponent(String(c.Key ?? '').replace(/\+/g, '%20')),
          size: Number(c.Size),
          etag: unquote(String(c.ETag ?? '')),
        }))
        if (result.IsTruncated !== 'true') return
        token = String(result.NextContinuationToken ?? '')
        if (token === '') throw new Error('Cannot list: a truncated page has no continuation token')
      }
    },
    async getObject(bucket, key) {
      const target = `/${encodeKeyForPath(bucket)}/${encodeKeyForPath(key)}`
      let res = await send(target, sseHeaders)
      if (res.statusCode === 400 && options.sseCustomerKey !== undefined) {
        res.resume()
        res = await send(target, {})
      }
      if (res.statusCode !== 200) await failure(res, `Cannot get "${key}"`)
      return {
        size: Number(res.headers['content-length']),
        etag: unquote(String(res.headers.etag ?? '')),
        body: res,
      }
    },
  }
}
