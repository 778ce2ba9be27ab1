// Bucket CORS: the configuration round trip through the AWS SDK v3, its validation, and what a
// browser sees over raw HTTP: unsigned preflight OPTIONS answered from the rules (origin
// wildcards, methods, requested headers, expose headers, max age) or refused with S3's 403
// AccessForbidden, and Access-Control-* headers on real responses whose Origin a rule allows.
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RawResponse, rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let ep: string
const Bucket = 'browser-app'
const Bare = 'no-cors'
beforeAll(async () => {
  server = await startSovra()
  ep = server.endpoint('us-west-1')
  registerRegion(ep, 'us-west-1')
  await s3().send(new CreateBucketCommand({ Bucket }))
  await s3().send(new CreateBucketCommand({ Bucket: Bare }))
  await s3().send(new PutObjectCommand({ Bucket, Key: 'page.json', Body: '{"ok":true}' }))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'us-west-1')
const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1]
const element = (body: string, name: string) =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]
const acHeaders = (res: RawResponse) =>
  Object.fromEntries(
    Object.entries(res.headers).filter(([name]) => name.startsWith('access-control-')),
  )

/** An unsigned preflight, as a browser sends it. */
function preflight(path: string, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(ep, path, { method: 'OPTIONS', sign: false, headers })
}

const RULES = [
  {
    ID: 'app',
    AllowedOrigins: ['https://app.example.com', 'https://*.preview.example.com'],
    AllowedMethods: ['GET', 'PUT'],
    AllowedHeaders: ['content-type', 'x-amz-*'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
]

describe('PutBucketCors, GetBucketCors, DeleteBucketCors', () => {
  it('NoSuchCORSConfiguration until rules are set; they round-trip; delete removes them', async () => {
    const none = await s3Error(s3().send(new GetBucketCorsCommand({ Bucket })))
    expect([none.name, none.$metadata.httpStatusCode]).toEqual(['NoSuchCORSConfiguration', 404])
    await s3().send(
      new PutBucketCorsCommand({ Bucket: Bare, CORSConfiguration: { CORSRules: RULES } }),
    )
    const got = await s3().send(new GetBucketCorsCommand({ Bucket: Bare }))
    expect(got.CORSRules).toEqual([RULES[0], { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] }])
    await s3().send(new DeleteBucketCorsCommand({ Bucket: Bare }))
    const gone = await s3Error(s3().send(new GetBucketCorsCommand({ Bucket: Bare })))
    expect(gone.name).toBe('NoSuchCORSConfiguration')
    // Deleting what is not there is fine, as in S3.
    await s3().send(new DeleteBucketCorsCommand({ Bucket: Bare }))
  })

  it('refuses bad configurations with the AWS error and keeps the rules it had', async () => {
    await s3().send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: RULES } }))
    const refused: Array<[string, string, string]> = [
      [
        'an unsupported method',
        '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>',
        'InvalidRequest',
      ],
      [
        'a rule without a method',
        '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>',
        'MalformedXML',
      ],
      ['no rule at all', '<CORSConfiguration></CORSConfiguration>', 'MalformedXML'],
      [
        'an origin with two wildcards',
        '<CORSConfiguration><CORSRule><AllowedOrigin>https://*.*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
        'InvalidRequest',
      ],
      [
        'a MaxAgeSeconds that is not a number',
        '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>',
        'MalformedXML',
      ],
      ['a document that does not end', '<CORSConfiguration><CORSRule>', 'MalformedXML'],
      [
        '101 rules',
        `<CORSConfiguration>${'<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(101)}</CORSConfiguration>`,
        'MalformedXML',
      ],
    ]
    for (const [name, body, expected] of refused) {
      const res = await rawRequest(ep, `/${Bucket}?cors`, { method: 'PUT', body })
      expect([name, res.status, code(res.body)]).toEqual([name, 400, expected])
    }
    expect((await s3().send(new GetBucketCorsCommand({ Bucket }))).CORSRules).toEqual(RULES)
  })
})

describe('subresources out of place', () => {
  it('answers ?cors on an object and ?attributes other than GET of an object with 501, changing nothing', async () => {
    for (const [method, path] of [
      ['PUT', `/${Bucket}/page.json?cors`],
      ['DELETE', `/${Bucket}/page.json?cors`],
      ['PUT', `/${Bucket}/page.json?attributes`],
      ['DELETE', `/${Bucket}/page.json?attributes`],
      ['GET', `/${Bucket}?attributes`],
    ] as const) {
      const res = await rawRequest(ep, path, { method, body: method === 'PUT' ? 'oops' : '' })
      expect([method, path, res.status, code(res.body)]).toEqual([
        method,
        path,
        501,
        'NotImplemented',
      ])
    }
    const page = await rawRequest(ep, `/${Bucket}/page.json`)
    expect(page.body).toBe('{"ok":true}')
  })
})

describe('preflight OPTIONS (unsigned)', () => {
  beforeAll(async () => {
    await s3().send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: RULES } }))
  })

  it('answers a matching preflight with the rule: origin, credentials, methods, headers, max age', async () => {
    const res = await preflight(`/${Bucket}/page.json`, {
      Origin: 'https://app.example.com',
      'Access-Control-Request-Method': 'PUT',
      'Access-Control-Request-Headers': 'Content-Type, X-Amz-Date',
    })
    expect(res.status).toBe(200)
    expect(res.body).toBe('')
    expect(acHeaders(res)).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'content-type, x-amz-date',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
    })
    expect(res.headers.vary).toBe(
      'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    )
  })

  it('matches an origin wildcard, and answers * for a rule that allows every origin', async () => {
    const preview = await preflight(`/${Bucket}/page.json`, {
      Origin: 'https://pr-42.preview.example.com',
      'Access-Control-Request-Method': 'GET',
    })
    expect(preview.status).toBe(200)
    expect(preview.headers['access-control-allow-origin']).toBe('https://pr-42.preview.example.com')
    const any = await preflight(`/${Bucket}`, {
      Origin: 'https://elsewhere.test',
      'Access-Control-Request-Method': 'HEAD',
    })
    expect(any.status).toBe(200)
    expect(acHeaders(any)).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'HEAD',
    })
  })

  it.each([
    ['an origin no rule allows', 'https://evil.example.net', 'GET', undefined, 'OBJECT'],
    ['a method no rule allows', 'https://app.example.com', 'DELETE', undefined, 'OBJECT'],
    ['a header no rule allows', 'https://app.example.com', 'GET', 'x-custom', 'OBJECT'],
    [
      'a wildcard that needs a subdomain',
      'https://preview.example.com',
      'GET',
      undefined,
      'OBJECT',
    ],
  ])(
    'refuses %s with 403 AccessForbidden and no CORS headers',
    async (_n, origin, method, hdr, type) => {
      const res = await preflight(`/${Bucket}/page.json`, {
        Origin: origin,
        'Access-Control-Request-Method': method,
        ...(hdr === undefined ? {} : { 'Access-Control-Request-Headers': hdr }),
      })
      expect([res.status, code(res.body)]).toEqual([403, 'AccessForbidden'])
      expect(element(res.body, 'Message')).toMatch(
        /^CORSResponse: This CORS request is not allowed/,
      )
      expect(element(res.body, 'Method')).toBe(method)
      expect(element(res.body, 'ResourceType')).toBe(type)
      expect(acHeaders(res)).toEqual({})
    },
  )

  it('answers a bucket without rules, a missing bucket and a missing Origin as S3 does', async () => {
    const bare = await preflight(`/${Bare}/x`, {
      Origin: 'https://app.example.com',
      'Access-Control-Request-Method': 'GET',
    })
    expect([bare.status, code(bare.body), element(bare.body, 'Message')]).toEqual([
      403,
      'AccessForbidden',
      'CORSResponse: CORS is not enabled for this bucket.',
    ])
    const missing = await preflight('/no-such-bucket-here/x', {
      Origin: 'https://app.example.com',
      'Access-Control-Request-Method': 'GET',
    })
    expect([missing.status, element(missing.body, 'Message')]).toEqual([
      403,
      'CORSResponse: Bucket not found',
    ])
    const noOrigin = await preflight(`/${Bucket}/page.json`, {
      'Access-Control-Request-Method': 'GET',
    })
    expect([noOrigin.status, code(noOrigin.body)]).toEqual([400, 'BadRequest'])
  })
})

describe('CORS headers on real responses', () => {
  beforeAll(async () => {
    await s3().send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: RULES } }))
  })

  it('adds Access-Control-* to a signed GET whose Origin a rule allows for GET', async () => {
    const res = await rawRequest(ep, `/${Bucket}/page.json`, {
      headers: { Origin: 'https://app.example.com' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toBe('{"ok":true}')
    expect(acHeaders(res)).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
    })
  })

  it('adds nothing for an Origin no rule allows, a method no rule allows, or no Origin', async () => {
    const evil = await rawRequest(ep, `/${Bucket}/page.json`, {
      headers: { Origin: 'https://evil.example.net' },
    })
    expect([evil.status, acHeaders(evil)]).toEqual([200, {}])
    const del = await rawRequest(ep, `/${Bucket}/not-there`, {
      method: 'DELETE',
      headers: { Origin: 'https://app.example.com' },
    })
    expect([del.status, acHeaders(del)]).toEqual([204, {}])
    const plain = await rawRequest(ep, `/${Bucket}/page.json`)
    expect([plain.status, acHeaders(plain)]).toEqual([200, {}])
  })
})
