import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import { authenticate } from './authenticate.js'
import { canonicalRequest, signString, stringToSign } from './canonical-request.js'
import { presignUrl, signRequestHeaders } from './sign.js'
import { deriveSigningKey, SigningKeyCache } from './signing-key.js'
import { SigV4Error } from './sigv4-error.js'
import type { SignedRequest } from './sigv4-types.js'
import { AKID, DOC_NOW, docOptions, SECRET } from './test-fixtures.js'

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const identity = { accessKeyId: AKID, secretAccessKey: SECRET, region: 'us-east-1', now: DOC_NOW }

/** The request the AWS documentation's GET object example sends. */
const docGet = (): SignedRequest => ({
  method: 'GET',
  url: '/test.txt',
  headers: {
    host: 'examplebucket.s3.amazonaws.com',
    range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY,
    'x-amz-date': '20130524T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
})

/** A request signed by our signer, as a server would receive it. */
function signed(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  extra: Partial<Parameters<typeof signRequestHeaders>[0]> = {},
): SignedRequest {
  const all = { host: 'localhost:9000', ...headers }
  const s = signRequestHeaders({ ...identity, method, url: target, headers: all, ...extra })
  return { method, url: target, headers: { ...all, ...s.headers } }
}

function withHeaders(req: SignedRequest, headers: IncomingHttpHeaders): SignedRequest {
  return { ...req, headers: { ...req.headers, ...headers } }
}

async function failure(req: SignedRequest, options = docOptions()): Promise<SigV4Error> {
  const err = await authenticate(req, options).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SigV4Error)
  return err as SigV4Error
}

describe('authenticate: header auth', () => {
  it('accepts the AWS documentation GET object request (no spaces after commas)', async () => {
    const result = await authenticate(docGet(), docOptions())
    expect(result).toEqual({
      kind: 'signed',
      accessKeyId: AKID,
      region: 'us-east-1',
      presigned: false,
      payload: { kind: 'sha256', expected: EMPTY },
    })
  })

  it('accepts the AWS documentation PUT object request with a Date header', async () => {
    const req: SignedRequest = {
      method: 'PUT',
      url: '/test%24file.text',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
      },
    }
    await expect(authenticate(req, docOptions())).resolves.toMatchObject({ kind: 'signed' })
  })

  it('accepts lifecycle and list-objects queries', async () => {
    for (const [url, sig] of [
      ['/?lifecycle', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'],
      ['/?max-keys=2&prefix=J', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'],
    ] as const) {
      const req: SignedRequest = {
        method: 'GET',
        url,
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          'x-amz-content-sha256': EMPTY,
          'x-amz-date': '20130524T000000Z',
          authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${sig}`,
        },
      }
      await expect(authenticate(req, docOptions())).resolves.toMatchObject({ kind: 'signed' })
    }
  })

  it('tolerates spacing and comma variants in the Authorization header', async () => {
    const base = docGet().headers.authorization as string
    const parts = base.slice('AWS4-HMAC-SHA256 '.length).split(',')
    for (const variant of [
      `AWS4-HMAC-SHA256 ${parts.join(', ')}`,
      `AWS4-HMAC-SHA256   ${parts.join(' ,  ')} `,
      `AWS4-HMAC-SHA256 ${parts.join(',')},`,
      `AWS4-HMAC-SHA256 ${parts.reverse().join(', ')}`,
    ]) {
      const req = withHeaders(docGet(), { authorization: variant })
      await expect(authenticate(req, docOptions())).resolves.toMatchObject({ kind: 'signed' })
    }
  })

  it('is anonymous without an Authorization header or query signature', async () => {
    const req: SignedRequest = { method: 'GET', url: '/b/k?x-id=GetObject', headers: { host: 'h' } }
    await expect(authenticate(req, docOptions())).resolves.toEqual({ kind: 'anonymous' })
  })

  it('reports the payload mode each x-amz-content-sha256 value asks for', async () => {
    const upper = 'ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789'
    const expectations = [
      ['UNSIGNED-PAYLOAD', { kind: 'unsigned' }],
      [upper, { kind: 'sha256', expected: upper.toLowerCase() }],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { kind: 'streaming-unsigned', trailer: true }],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { kind: 'streaming-signed', trailer: false }],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { kind: 'streaming-signed', trailer: true }],
    ] as const
    for (const [payloadHash, payload] of expectations) {
      const req = signed('PUT', '/b/k', {}, { payloadHash })
      const result = await authenticate(req, docOptions())
      expect(result).toMatchObject({ kind: 'signed', payload })
      if (result.kind === 'signed' && result.payload.kind === 'streaming-signed') {
        expect(result.payload.scope).toBe('20130524/us-east-1/s3/aws4_request')
        expect(result.payload.amzDate).toBe('20130524T000000Z')
        expect(result.payload.seedSignature).toMatch(/^[0-9a-f]{64}$/)
        expect(result.payload.signingKey.length).toBe(32)
      }
    }
  })

  it('fails with SignatureDoesNotMatch when anything signed is tampered with', async () => {
    const req = signed('PUT', '/bucket/key?tagging', {
      'x-amz-meta-a': 'one',
      'content-type': 'text/plain',
    })
    await expect(authenticate(req, docOptions())).resolves.toMatchObject({ kind: 'signed' })
    const tampered: SignedRequest[] = [
      { ...req, method: 'POST' },
      { ...req, url: '/bucket/key2?tagging' },
      { ...req, url: '/bucket/key?tagging&x=1' },
      { ...req, url: '/bucket/key' },
      withHeaders(req, { 'x-amz-meta-a': 'two' }),
      withHeaders(req, { 'content-type': 'text/html' }),
      withHeaders(req, { host: 'evil:9000' }),
      withHeaders(req, { 'x-amz-date': '20130524T000001Z' }),
      withHeaders(req, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
    ]
    for (const t of tampered) {
      const err = await failure(t)
      expect(err.code).toBe('SignatureDoesNotMatch')
      expect(err.details.canonicalRequest).toContain('\n')
    }
  })

  it('fails with SignatureDoesNotMatch for a wrong secret or a mangled signature', async () => {
    const req = signed('GET', '/b/k')
    const wrongSecret = docOptions({ lookup: async () => ({ secretAccessKey: 'not-the-secret' }) })
    expect((await failure(req, wrongSecret)).code).toBe('SignatureDoesNotMatch')
    const auth = req.headers.authorization as string
    expect((await failure(withHeaders(req, { authorization: `${auth}00` }))).code).toBe(
      'SignatureDoesNotMatch',
    )
  })

  it('fails with InvalidAccessKeyId for an unknown key', async () => {
    const req = signed('GET', '/b/k', {}, { accessKeyId: 'AKIDUNKNOWN' })
    const err = await failure(req)
    expect(err.code).toBe('InvalidAccessKeyId')
    expect(err.message).toContain("'AKIDUNKNOWN'")
  })

  it('names the expected region when the signature names another', async () => {
    const req = signed('GET', '/b/k', {}, { region: 'eu-west-1' })
    const err = await failure(req, docOptions({ regions: ['us-west-1', 'us-east-1'] }))
    expect(err.code).toBe('AuthorizationHeaderMalformed')
    expect(err.message).toBe(
      "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-west-1'",
    )
    expect(err.details).toEqual({ region: 'us-west-1' })
  })

  it('accepts any configured region', async () => {
    const req = signed('GET', '/b/k', {}, { region: 'us-west-1' })
    await expect(
      authenticate(req, docOptions({ regions: ['eu-central-1', 'us-west-1'] })),
    ).resolves.toMatchObject({ region: 'us-west-1' })
  })

  it('refuses another service or terminal', async () => {
    const req = signed('GET', '/b/k', {}, { service: 'iam' })
    expect((await failure(req)).code).toBe('AuthorizationHeaderMalformed')
    const auth = (docGet().headers.authorization as string).replace('aws4_request', 'aws5_request')
    expect((await failure(withHeaders(docGet(), { authorization: auth }))).code).toBe(
      'AuthorizationHeaderMalformed',
    )
  })

  it('fails with RequestTimeTooSkewed beyond the allowed skew, either way', async () => {
    const req = signed('GET', '/b/k')
    for (const now of [DOC_NOW + 15 * 60_000 + 1, DOC_NOW - 15 * 60_000 - 1]) {
      const err = await failure(req, docOptions({ now }))
      expect(err.code).toBe('RequestTimeTooSkewed')
      expect(err.details.maxAllowedSkewMilliseconds).toBe('900000')
    }
    await expect(
      authenticate(req, docOptions({ now: DOC_NOW + 15 * 60_000 })),
    ).resolves.toMatchObject({ kind: 'signed' })
  })

  it('requires a date, and a credential date that matches it', async () => {
    const req = signed('GET', '/b/k')
    const { 'x-amz-date': _, ...noDate } = req.headers
    const err = await failure({ ...req, headers: noDate })
    expect(err.code).toBe('AccessDenied')
    expect(err.message).toBe('AWS authentication requires a valid Date or x-amz-date header')
    expect((await failure(withHeaders(req, { 'x-amz-date': '2013-05-24T00:00:00Z' }))).code).toBe(
      'AccessDenied',
    )
    expect((await failure(withHeaders(req, { 'x-amz-date': '20130523T235959Z' }))).code).toBe(
      'AuthorizationHeaderMalformed',
    )
  })

  it('accepts a Date header in place of x-amz-date', async () => {
    const headers = {
      host: 'h',
      date: 'Fri, 24 May 2013 00:04:00 GMT',
      'x-amz-content-sha256': EMPTY,
    }
    const signedHeaders = ['date', 'host', 'x-amz-content-sha256']
    const canonical = canonicalRequest({
      method: 'GET',
      path: '/b/k',
      canonicalQuery: '',
      headers,
      signedHeaders,
      payloadHash: EMPTY,
    })
    const scope = '20130524/us-east-1/s3/aws4_request'
    const key = deriveSigningKey(SECRET, '20130524', 'us-east-1', 's3')
    const signature = signString(key, stringToSign('20130524T000400Z', scope, canonical))
    const req: SignedRequest = {
      method: 'GET',
      url: '/b/k',
      headers: {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
      },
    }
    await expect(authenticate(req, docOptions())).resolves.toMatchObject({ kind: 'signed' })
  })

  it('requires x-amz-content-sha256 and a known value for it', async () => {
    const req = signed('GET', '/b/k')
    const { 'x-amz-content-sha256': _, ...rest } = req.headers
    const missing = await failure({ ...req, headers: rest })
    expect(missing.code).toBe('InvalidRequest')
    const bad = await failure(
      signed('PUT', '/b/k', {}, { payloadHash: 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' }),
    )
    expect(bad.code).toBe('InvalidArgument')
    expect(bad.details.argumentName).toBe('x-amz-content-sha256')
  })

  it('refuses x-amz-* headers that were not signed', async () => {
    const req = withHeaders(signed('PUT', '/b/k'), { 'x-amz-acl': 'public-read' })
    const err = await failure(req)
    expect(err.code).toBe('AccessDenied')
    expect(err.details.headersNotSigned).toBe('x-amz-acl')
  })

  it('refuses other schemes and malformed headers', async () => {
    const v2 = await failure(
      withHeaders(docGet(), {
        authorization: 'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=',
      }),
    )
    expect(v2.code).toBe('InvalidRequest')
    for (const authorization of [
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1, SignedHeaders=host, Signature=00',
      'AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=00',
      'AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request, Credential=b, SignedHeaders=host, Signature=0',
      '',
    ]) {
      expect((await failure(withHeaders(docGet(), { authorization }))).code).toBe(
        'AuthorizationHeaderMalformed',
      )
    }
  })

  it('requires host to be signed', async () => {
    const auth = (docGet().headers.authorization as string).replace('host;', '')
    expect((await failure(withHeaders(docGet(), { authorization: auth }))).code).toBe(
      'AuthorizationHeaderMalformed',
    )
  })

  it('refuses a request carrying both auth mechanisms', async () => {
    const url = presignUrl({
      ...identity,
      method: 'GET',
      url: 'localhost:9000/b/k',
      expiresSeconds: 60,
    })
    const req = withHeaders(signed('GET', '/b/k'), {})
    const err = await failure({ ...req, url: url.slice('localhost:9000'.length) })
    expect(err.code).toBe('InvalidArgument')
  })

  it('uses the signing key cache it is given', async () => {
    const signingKeys = new SigningKeyCache(2)
    await authenticate(signed('GET', '/b/k'), docOptions({ signingKeys }))
    await authenticate(signed('GET', '/b/k2'), docOptions({ signingKeys }))
    expect(signingKeys.size).toBe(1)
  })
})

describe('authenticate: presigned URLs', () => {
  const docUrl =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'
  const docReq = (url = docUrl, headers: IncomingHttpHeaders = {}): SignedRequest => ({
    method: 'GET',
    url,
    headers: { host: 'examplebucket.s3.amazonaws.com', ...headers },
  })

  it('accepts the AWS documentation presigned URL until it expires', async () => {
    const ok = await authenticate(docReq(), docOptions({ now: DOC_NOW + 86_400_000 }))
    expect(ok).toEqual({
      kind: 'signed',
      accessKeyId: AKID,
      region: 'us-east-1',
      presigned: true,
      payload: { kind: 'unsigned' },
    })
    const err = await failure(docReq(), docOptions({ now: DOC_NOW + 86_400_001 }))
    expect(err.code).toBe('AccessDenied')
    expect(err.message).toBe('Request has expired')
  })

  it('refuses a URL dated in the future beyond the skew', async () => {
    const err = await failure(docReq(), docOptions({ now: DOC_NOW - 15 * 60_000 - 1 }))
    expect(err.code).toBe('AccessDenied')
    expect(err.message).toMatch(/^Request is not valid yet/)
  })

  it('fails with SignatureDoesNotMatch when the URL is tampered with', async () => {
    for (const url of [
      docUrl.replace('/test.txt', '/test2.txt'),
      docUrl.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401'),
      `${docUrl}&response-content-type=text%2Fhtml`,
      docUrl.replace('f604d404', 'f604d405'),
    ]) {
      expect((await failure(docReq(url))).code).toBe('SignatureDoesNotMatch')
    }
    expect((await failure(docReq(docUrl, { host: 'other.example.com' }))).code).toBe(
      'SignatureDoesNotMatch',
    )
  })

  it('fails with AuthorizationQueryParametersError for missing or bad parameters', async () => {
    for (const url of [
      docUrl.replace(/&X-Amz-Date=[^&]*/, ''),
      docUrl.replace(/&X-Amz-SignedHeaders=[^&]*/, ''),
      docUrl.replace('X-Amz-Expires=86400', 'X-Amz-Expires=604801'),
      docUrl.replace('X-Amz-Expires=86400', 'X-Amz-Expires=0'),
      docUrl.replace('X-Amz-Expires=86400', 'X-Amz-Expires=-1'),
      docUrl.replace('X-Amz-Date=20130524T000000Z', 'X-Amz-Date=20130524'),
      docUrl.replace('X-Amz-Date=20130524T000000Z', 'X-Amz-Date=20130525T000000Z'),
      docUrl.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'),
      docUrl.replace('%2Fs3%2F', '%2Fs4%2F'),
      docUrl.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=range'),
    ]) {
      expect((await failure(docReq(url))).code).toBe('AuthorizationQueryParametersError')
    }
  })

  it('names the expected region', async () => {
    const err = await failure(docReq(), docOptions({ regions: ['eu-west-3'] }))
    expect(err.code).toBe('AuthorizationQueryParametersError')
    expect(err.details).toEqual({ region: 'eu-west-3' })
    expect(err.message).toContain("the region 'us-east-1' is wrong; expecting 'eu-west-3'")
  })

  it('fails with InvalidAccessKeyId for an unknown key', async () => {
    const url = presignUrl({
      ...identity,
      accessKeyId: 'NOPE',
      method: 'GET',
      url: 'h/b/k',
      expiresSeconds: 60,
    })
    expect((await failure({ method: 'GET', url: url.slice(1), headers: { host: 'h' } })).code).toBe(
      'InvalidAccessKeyId',
    )
  })

  it('refuses unsigned x-amz-* headers but ignores an unsigned x-amz-content-sha256', async () => {
    const acl = await failure(docReq(docUrl, { 'x-amz-acl': 'public-read' }))
    expect(acl.code).toBe('AccessDenied')
    await expect(
      authenticate(docReq(docUrl, { 'x-amz-content-sha256': EMPTY }), docOptions()),
    ).resolves.toMatchObject({ payload: { kind: 'unsigned' } })
  })

  it('round-trips presignUrl with signed extra headers and a query', async () => {
    const url = presignUrl({
      ...identity,
      method: 'PUT',
      url: 'http://localhost:9000/b/a%20b%2Bc?partNumber=1&uploadId=x%2By',
      headers: { 'x-amz-acl': 'private' },
      expiresSeconds: 3600,
    })
    const target = url.slice('http://localhost:9000'.length)
    const req: SignedRequest = {
      method: 'PUT',
      url: target,
      headers: { host: 'localhost:9000', 'x-amz-acl': 'private' },
    }
    await expect(authenticate(req, docOptions())).resolves.toMatchObject({ presigned: true })
    expect(
      (await failure({ ...req, headers: { ...req.headers, 'x-amz-acl': 'public-read' } })).code,
    ).toBe('SignatureDoesNotMatch')
  })

  it('honours an X-Amz-Content-Sha256 query parameter', async () => {
    const url = presignUrl({
      ...identity,
      method: 'PUT',
      url: `localhost:9000/b/k?X-Amz-Content-Sha256=${EMPTY}`,
      expiresSeconds: 60,
    })
    // presignUrl signs UNSIGNED-PAYLOAD, so a URL claiming a body hash must not verify.
    const req: SignedRequest = {
      method: 'PUT',
      url: url.slice('localhost:9000'.length),
      headers: { host: 'localhost:9000' },
    }
    expect((await failure(req)).code).toBe('SignatureDoesNotMatch')
  })
})
