import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { crc32 } from 'node:zlib'
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequestHeaders } from '../../src/access/index.js'
import { rawRequest, rawSocket, registerRegion } from '../support/raw-request.js'
import { s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let ep: string
const Bucket = 'bad-input'
beforeAll(async () => {
  server = await startSovra()
  ep = server.endpoint('us-west-1')
  registerRegion(ep, 'us-west-1')
  await s3For(server, 'us-west-1').send(new CreateBucketCommand({ Bucket }))
})
afterAll(async () => {
  await server?.stop()
})

async function exists(Key: string): Promise<boolean> {
  try {
    await s3For(server, 'us-west-1').send(new HeadObjectCommand({ Bucket, Key }))
    return true
  } catch (err) {
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return false
    throw err
  }
}

function fetchWithHost(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => {
        body += c.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Writes `payload`, waits `pauseMs`, half-closes, and returns what came back within a second. */
function partialThenClose(payload: string, pauseMs: number): Promise<string> {
  const { hostname, port } = new URL(ep)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.write(payload)
    setTimeout(() => socket.end(), pauseMs)
    setTimeout(() => socket.destroy(), pauseMs + 1000)
  })
}

/**
 * The header lines of a PUT to `target` signed with UNSIGNED-PAYLOAD, declaring `length` bytes
 * (no Content-Length header when null).
 */
function signedPutHead(target: string, length: number | null): string {
  const signed = signRequestHeaders({
    method: 'PUT',
    url: `${ep}${target}`,
    payloadHash: 'UNSIGNED-PAYLOAD',
    accessKeyId: ROOT.accessKeyId,
    secretAccessKey: ROOT.secretAccessKey,
    region: 'us-west-1',
    now: Date.now(),
  })
  const declared = length === null ? {} : { 'content-length': String(length) }
  return Object.entries({ ...signed.headers, ...declared })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')
}

function code(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1]
}

describe('bad input gets its S3 error and changes nothing', () => {
  it('malformed XML in DeleteObjects → 400 MalformedXML', async () => {
    const body = '<Delete><Object><Key>a</Key></Object>'
    const res = await rawRequest(ep, `/${Bucket}?delete`, {
      method: 'POST',
      body,
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    })
    expect([res.status, code(res.body)]).toEqual([400, 'MalformedXML'])
  })

  it('XML with a DOCTYPE and entities → 400 MalformedXML, the entity never expanded', async () => {
    await s3For(server, 'us-west-1').send(new PutObjectCommand({ Bucket, Key: 'keep', Body: 'x' }))
    const body =
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY k "keep">]><Delete><Object><Key>&k;</Key></Object></Delete>'
    const res = await rawRequest(ep, `/${Bucket}?delete`, { method: 'POST', body })
    expect([res.status, code(res.body)]).toEqual([400, 'MalformedXML'])
    expect(await exists('keep')).toBe(true)
  })

  it('a body shorter than Content-Length leaves no object', async () => {
    const target = `/${Bucket}/short`
    const head = signedPutHead(target, 100_000)
    await rawSocket(
      ep,
      `PUT ${target} HTTP/1.1\r\nHost: ${new URL(ep).host}\r\n${head}\r\n\r\n${'x'.repeat(70_000)}`,
      { halfClose: true, ms: 1500 },
    )
    expect(await exists('short')).toBe(false)
  })

  it('a small body (read whole, kept inline) shorter than Content-Length gets no 200 and leaves no object', async () => {
    const target = `/${Bucket}/short-small`
    const head = signedPutHead(target, 4096)
    // The client stops while the server waits for the rest (and, once more, before it asks).
    for (const pauseMs of [300, 0]) {
      const out = await partialThenClose(
        `PUT ${target} HTTP/1.1\r\nHost: ${new URL(ep).host}\r\n${head}\r\n\r\n${'x'.repeat(1000)}`,
        pauseMs,
      )
      expect(out).not.toMatch(/^HTTP\/1.1 200/)
      // Whatever the server still does with the request, it never makes the object.
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(await exists('short-small')).toBe(false)
    }
  })

  it('a small body read whole is checked like a streamed one: SHA-256, Content-MD5 and checksum headers', async () => {
    const body = Buffer.alloc(4096, 7)
    const put = (
      Key: string,
      options: { headers?: Record<string, string>; payloadHash?: string },
    ) => rawRequest(ep, `/${Bucket}/${Key}`, { method: 'PUT', body, ...options })
    // Signed with its SHA-256 (and a right Content-MD5 and CRC32): stored, its ETag the MD5,
    // and read back byte for byte.
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    const ok = await put('whole-signed', {
      headers: {
        'content-md5': createHash('md5').update(body).digest('base64'),
        'x-amz-checksum-crc32': crc.toString('base64'),
      },
    })
    expect([ok.status, ok.headers.etag]).toEqual([
      200,
      `"${createHash('md5').update(body).digest('hex')}"`,
    ])
    const got = await rawRequest(ep, `/${Bucket}/whole-signed`)
    expect([got.status, got.body]).toEqual([200, body.toString('utf8')])
    const md5 = createHash('md5').update('other').digest('base64')
    const badMd5 = await put('whole-md5', { headers: { 'content-md5': md5 } })
    expect([badMd5.status, code(badMd5.body)]).toEqual([400, 'BadDigest'])
    const badCrc = await put('whole-crc', {
      headers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
      payloadHash: 'UNSIGNED-PAYLOAD',
    })
    expect([badCrc.status, code(badCrc.body)]).toEqual([400, 'BadDigest'])
    const sha = await put('whole-sha', {
      payloadHash: createHash('sha256').update(Buffer.alloc(4096, 8)).digest('hex'),
    })
    expect([sha.status, code(sha.body)]).toEqual([400, 'XAmzContentSHA256Mismatch'])
    for (const key of ['whole-md5', 'whole-crc', 'whole-sha']) expect(await exists(key)).toBe(false)
  })

  it('a missing Content-Length on PUT → 411 MissingContentLength', async () => {
    const target = `/${Bucket}/nolen`
    const head = signedPutHead(target, null)
    const out = await rawSocket(
      ep,
      `PUT ${target} HTTP/1.1\r\nHost: ${new URL(ep).host}\r\n${head}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    )
    expect(out).toMatch(/^HTTP\/1.1 411/)
    expect(out).toContain('<Code>MissingContentLength</Code>')
    expect(await exists('nolen')).toBe(false)
  })

  it('a body that does not match x-amz-content-sha256 → XAmzContentSHA256Mismatch, nothing stored', async () => {
    const res = await rawRequest(ep, `/${Bucket}/tampered`, {
      method: 'PUT',
      body: 'actual body',
      payloadHash: createHash('sha256').update('other body').digest('hex'),
    })
    expect([res.status, code(res.body)]).toEqual([400, 'XAmzContentSHA256Mismatch'])
    expect(await exists('tampered')).toBe(false)
  })

  it('a wrong secret → 403 SignatureDoesNotMatch', async () => {
    const res = await rawRequest(ep, `/${Bucket}`, {
      credentials: { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'wrong' },
    })
    expect([res.status, code(res.body)]).toEqual([403, 'SignatureDoesNotMatch'])
  })

  it('an unknown access key → 403 InvalidAccessKeyId', async () => {
    const res = await rawRequest(ep, `/${Bucket}`, {
      credentials: { accessKeyId: 'SVRANOSUCHKEY0000000', secretAccessKey: 'x' },
    })
    expect([res.status, code(res.body)]).toEqual([403, 'InvalidAccessKeyId'])
  })

  it('a request signed 20 minutes ago → 403 RequestTimeTooSkewed', async () => {
    const res = await rawRequest(ep, `/${Bucket}`, { now: Date.now() - 20 * 60_000 })
    expect([res.status, code(res.body)]).toEqual([403, 'RequestTimeTooSkewed'])
  })

  it('a signature for another region → 400 AuthorizationHeaderMalformed naming the expected region', async () => {
    const res = await rawRequest(ep, `/${Bucket}`, { region: 'eu-west-1' })
    expect([res.status, code(res.body)]).toEqual([400, 'AuthorizationHeaderMalformed'])
    expect(res.body).toContain('us-west-1')
  })

  it('us-east-1 is accepted as the signing region at every endpoint', async () => {
    const res = await rawRequest(ep, `/${Bucket}?list-type=2`, { region: 'us-east-1' })
    expect(res.status).toBe(200)
  })

  it('an anonymous request → 403 AccessDenied', async () => {
    const res = await rawRequest(ep, `/${Bucket}/keep`, { sign: false })
    expect([res.status, code(res.body)]).toEqual([403, 'AccessDenied'])
  })

  it('oversized headers → 400 RequestHeaderSectionTooLarge', async () => {
    const res = await rawSocket(
      ep,
      `GET /${Bucket} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
    )
    expect(res).toMatch(/^HTTP\/1.1 400/)
    expect(res).toContain('RequestHeaderSectionTooLarge')
  })

  it('an unsupported operation → 501 NotImplemented', async () => {
    const res = await rawRequest(ep, `/${Bucket}?website`)
    expect([res.status, code(res.body)]).toEqual([501, 'NotImplemented'])
  })

  it('an unknown subresource never falls through to a real handler: 501 and nothing changes', async () => {
    await s3For(server, 'us-west-1').send(
      new PutObjectCommand({ Bucket, Key: 'precious', Body: 'keep me' }),
    )
    for (const [method, path] of [
      ['DELETE', `/${Bucket}/precious?annotation`],
      ['PUT', `/${Bucket}/precious?annotation`],
      ['DELETE', `/${Bucket}?metadataConfiguration`],
      ['GET', '/?x-id=ListDirectoryBuckets'],
    ] as const) {
      const res = await rawRequest(ep, path, {
        method,
        body: method === 'PUT' ? 'overwritten' : '',
      })
      expect([method, path, res.status, code(res.body)]).toEqual([
        method,
        path,
        501,
        'NotImplemented',
      ])
    }
    expect(await exists('precious')).toBe(true)
  })

  it('refuses a KMS encryption context, object locks, non-standard storage classes and ACLs a bucket does not allow instead of silently dropping them', async () => {
    for (const headers of [
      { 'x-amz-server-side-encryption-context': 'e30=' },
      { 'x-amz-storage-class': 'GLACIER' },
    ]) {
      const res = await rawRequest(ep, `/${Bucket}/not-stored`, {
        method: 'PUT',
        body: 'x',
        headers,
      })
      expect([res.status, code(res.body)]).toEqual([501, 'NotImplemented'])
    }
    // A lock on a bucket without Object Lock is refused as AWS refuses it.
    const lock = await rawRequest(ep, `/${Bucket}/not-stored`, {
      method: 'PUT',
      body: 'x',
      headers: { 'x-amz-object-lock-legal-hold': 'ON' },
    })
    expect([lock.status, code(lock.body)]).toEqual([400, 'InvalidRequest'])
    // Incomplete SSE-C headers are the client's mistake, answered as AWS does.
    const partial = await rawRequest(ep, `/${Bucket}/not-stored`, {
      method: 'PUT',
      body: 'x',
      headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' },
    })
    expect([partial.status, code(partial.body)]).toEqual([400, 'InvalidArgument'])
    // A public ACL on a bucket with ACLs disabled (AWS's default Object Ownership).
    const publicAcl = await rawRequest(ep, `/${Bucket}/not-stored`, {
      method: 'PUT',
      body: 'x',
      headers: { 'x-amz-acl': 'public-read' },
    })
    expect([publicAcl.status, code(publicAcl.body)]).toEqual([400, 'AccessControlListNotSupported'])
    expect(await exists('not-stored')).toBe(false)
    const ok = await rawRequest(ep, `/${Bucket}/stored`, {
      method: 'PUT',
      body: 'x',
      headers: { 'x-amz-storage-class': 'STANDARD', 'x-amz-acl': 'private' },
    })
    expect(ok.status).toBe(200)
  })

  it('answers an anonymous request for an unsupported operation with 403, not 501', async () => {
    const res = await rawRequest(ep, `/${Bucket}?website`, { sign: false })
    expect(res.status).toBe(403)
  })

  it('every response carries x-amz-request-id, errors too, and the error XML has Resource and RequestId', async () => {
    const res = await rawRequest(ep, `/${Bucket}/missing-key`)
    expect(res.status).toBe(404)
    expect(res.headers['x-amz-request-id']).toMatch(/^[0-9A-F]{16}$/)
    expect(res.body).toContain(`<Resource>/${Bucket}/missing-key</Resource>`)
    expect(res.body).toContain(`<RequestId>${res.headers['x-amz-request-id']}</RequestId>`)
  })

  it('malformed percent-encoding in the path → 400 InvalidURI', async () => {
    const res = await rawRequest(ep, `/${Bucket}/bad%zzkey`)
    expect(res.status).toBe(400)
  })

  it('max-keys that is not a number → 400 InvalidArgument', async () => {
    const res = await rawRequest(ep, `/${Bucket}?list-type=2&max-keys=abc`)
    expect([res.status, code(res.body)]).toEqual([400, 'InvalidArgument'])
  })
})

describe('addressing and streaming signatures', () => {
  it('serves virtual-hosted style requests (bucket.localhost)', async () => {
    const port = new URL(ep).port
    await s3For(server, 'us-west-1').send(
      new PutObjectCommand({ Bucket, Key: 'vh.txt', Body: 'virtual' }),
    )
    const host = `${Bucket}.localhost:${port}`
    const signed = signRequestHeaders({
      method: 'GET',
      url: `http://${host}/vh.txt`,
      accessKeyId: ROOT.accessKeyId,
      secretAccessKey: ROOT.secretAccessKey,
      region: 'us-west-1',
      now: Date.now(),
    })
    const res = await fetchWithHost(`${ep}/vh.txt`, { ...signed.headers, host })
    expect(res).toEqual({ status: 200, body: 'virtual' })
  })

  it('accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD and refuses a tampered chunk', async () => {
    const { encodeAwsChunked } = await import('../../src/access/index.js')
    const data = Buffer.alloc(150_000, 9)
    for (const tamper of [false, true]) {
      const key = tamper ? 'chunked-bad' : 'chunked-ok'
      const url = `${ep}/${Bucket}/${key}`
      const headers = {
        'x-amz-decoded-content-length': String(data.length),
        'content-encoding': 'aws-chunked',
      }
      const signed = signRequestHeaders({
        method: 'PUT',
        url,
        headers,
        payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        accessKeyId: ROOT.accessKeyId,
        secretAccessKey: ROOT.secretAccessKey,
        region: 'us-west-1',
        now: Date.now(),
      })
      const body = encodeAwsChunked(data, { chunkSize: 65_536, signing: signed.chunkSigning })
      if (tamper) body.writeUInt8((body.readUInt8(body.length - 200) ^ 1) & 0xff, body.length - 200)
      const res = await rawRequest(ep, `/${Bucket}/${key}`, {
        method: 'PUT',
        sign: false,
        body,
        headers: { ...headers, ...signed.headers },
      })
      if (tamper) {
        expect([res.status, code(res.body)]).toEqual([403, 'SignatureDoesNotMatch'])
        expect(await exists(key)).toBe(false)
      } else {
        expect(res.status).toBe(200)
        expect(res.headers.etag).toBe(`"${createHash('md5').update(data).digest('hex')}"`)
      }
    }
  })
})
