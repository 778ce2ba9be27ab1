import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { crc32 } from 'node:zlib'
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authenticate } from './authenticate.js'
import { createPayloadDecoder } from './payload-decoder.js'
import type { AuthResult } from './sigv4-types.js'
import { AKID, decodeAll, SECRET } from './test-fixtures.js'

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly auth?: AuthResult
  readonly body?: Buffer
  readonly trailers?: Readonly<Record<string, string>>
  readonly error?: { code?: string; message: string }
}

const seen: Seen[] = []
let server: Server
let endpoint = ''

beforeAll(async () => {
  server = createServer((req, res) => {
    const base = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }
    void (async () => {
      try {
        const auth = await authenticate(base, {
          lookup: async (id) => (id === AKID ? { secretAccessKey: SECRET } : null),
          regions: ['us-east-1'],
          now: Date.now(),
          maxSkewMs: 15 * 60_000,
        })
        const decoded = req.headers['x-amz-decoded-content-length']
        const decoder = createPayloadDecoder(
          auth.kind === 'signed' ? auth.payload : { kind: 'unsigned' },
          {
            decodedContentLength: decoded === undefined ? undefined : Number(decoded),
          },
        )
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        const body = await decodeAll(decoder, chunks)
        seen.push({ ...base, auth, body, trailers: decoder.trailers })
        const xml = base.url.includes('list-type=2')
          ? '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount></ListBucketResult>'
          : ''
        res.writeHead(200, {
          etag: '"abc"',
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(xml),
        })
        res.end(xml)
      } catch (err) {
        const e = err as { code?: string; message: string }
        seen.push({
          ...base,
          error: { message: e.message, ...(e.code === undefined ? {} : { code: e.code }) },
        })
        req.resume()
        res.writeHead(403, { 'content-type': 'application/xml' })
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code ?? 'InternalError'}</Code><Message>x</Message></Error>`,
        )
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const client = (secretAccessKey = SECRET) =>
  new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey },
    maxAttempts: 1,
  })

const last = (): Seen => {
  const s = seen.at(-1)
  if (s === undefined) throw new Error('No request reached the server')
  return s
}

const KEY = 'dir/ä €+(x)!*~=&.txt'

describe('requests signed by @aws-sdk/client-s3 verify', () => {
  it('PutObject with a buffered body', async () => {
    const s3 = client()
    await s3.send(
      new PutObjectCommand({
        Bucket: 'bucket',
        Key: KEY,
        Body: 'hello world',
        ContentType: 'text/plain',
      }),
    )
    const s = last()
    expect(s.error).toBeUndefined()
    expect(s.auth).toMatchObject({ kind: 'signed', presigned: false, accessKeyId: AKID })
    expect(s.body?.toString()).toBe('hello world')
    s3.destroy()
  })

  it('PutObject with a streamed body (aws-chunked with a crc32 trailer)', async () => {
    const s3 = client()
    const data = Buffer.from(Array.from({ length: 200_000 }, (_v, i) => (i * 31) % 256))
    await s3.send(
      new PutObjectCommand({
        Bucket: 'bucket',
        Key: KEY,
        Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]),
        ContentLength: data.length,
      }),
    )
    const s = last()
    expect(s.error).toBeUndefined()
    expect(s.auth).toMatchObject({ kind: 'signed', payload: { kind: 'streaming-unsigned' } })
    expect(s.body?.equals(data)).toBe(true)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(data))
    expect(s.trailers).toEqual({ 'x-amz-checksum-crc32': crc.toString('base64') })
    s3.destroy()
  })

  it('GetObject with a Range, HeadObject and ListObjectsV2 with an awkward prefix', async () => {
    const s3 = client()
    await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: KEY, Range: 'bytes=0-9' }))
    expect(last().error).toBeUndefined()
    await s3.send(new HeadObjectCommand({ Bucket: 'bucket', Key: KEY }))
    expect(last().error).toBeUndefined()
    await s3.send(
      new ListObjectsV2Command({
        Bucket: 'bucket',
        Prefix: 'a b/ä+&=%',
        Delimiter: '/',
        StartAfter: '~x*',
      }),
    )
    expect(last().error).toBeUndefined()
    expect(last().url).toContain('list-type=2')
    s3.destroy()
  })

  it('a presigned GetObject URL', async () => {
    const s3 = client()
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bucket', Key: KEY }), {
      expiresIn: 60,
    })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(last().auth).toMatchObject({
      kind: 'signed',
      presigned: true,
      payload: { kind: 'unsigned' },
    })
    s3.destroy()
  })

  it('a presigned PutObject URL with a body', async () => {
    const s3 = client()
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'bucket', Key: KEY }), {
      expiresIn: 60,
    })
    const res = await fetch(url, { method: 'PUT', body: 'presigned body' })
    expect(res.status).toBe(200)
    expect(last().body?.toString()).toBe('presigned body')
    s3.destroy()
  })

  it('and a wrong secret fails with SignatureDoesNotMatch', async () => {
    const s3 = client('wrong-secret')
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: 'bucket', Key: KEY })),
    ).rejects.toBeDefined()
    expect(last().error?.code).toBe('SignatureDoesNotMatch')
    s3.destroy()
  })
})
