import { request } from 'node:http'
import { connect } from 'node:net'
import { signRequestHeaders } from '../../src/access/index.js'
import { ROOT } from './start-server.js'

/** A response read whole. */
export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** Options of a raw S3 request: signed with the root key unless told otherwise. */
export interface RawOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
  readonly sign?: boolean
  readonly region?: string
  readonly credentials?: { accessKeyId: string; secretAccessKey: string }
  readonly now?: number
  readonly payloadHash?: string
}

/** Sends one S3 request with node:http, so tests control every header and byte. */
export function rawRequest(
  endpoint: string,
  path: string,
  options: RawOptions = {},
): Promise<RawResponse> {
  const method = options.method ?? 'GET'
  const url = `${endpoint}${path}`
  const body = options.body === undefined ? undefined : Buffer.from(options.body)
  let headers: Record<string, string> = { ...(options.headers ?? {}) }
  if (options.sign !== false) {
    const creds = options.credentials ?? ROOT
    const signed = signRequestHeaders({
      method,
      url,
      headers,
      ...(options.payloadHash === undefined
        ? { body: body ?? '' }
        : { payloadHash: options.payloadHash }),
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      region: options.region ?? new URL(endpoint).searchParams.get('region') ?? regionOf(endpoint),
      now: options.now ?? Date.now(),
    })
    headers = { ...headers, ...signed.headers }
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const regions = new Map<string, string>()

/** Tells rawRequest which region to sign for an endpoint. */
export function registerRegion(endpoint: string, region: string): void {
  regions.set(endpoint, region)
}

function regionOf(endpoint: string): string {
  return regions.get(endpoint) ?? 'us-east-1'
}

/** Sends bytes on a bare socket and returns what came back before the server closed or `ms` passed. */
export function rawSocket(
  endpoint: string,
  payload: string | Buffer,
  options: { halfClose?: boolean; ms?: number } = {},
): Promise<string> {
  const { hostname, port } = new URL(endpoint)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(), options.ms ?? 2000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('utf8'))
      else reject(err)
    })
    socket.write(payload)
    if (options.halfClose) socket.end()
  })
}
