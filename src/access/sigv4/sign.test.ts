import { createHash, createHmac, type Hmac, type Hash as NodeHash } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import { describe, expect, it } from 'vitest'
import { uriEncode } from './canonical-request.js'
import { encodeAwsChunked, presignUrl, signRequestHeaders } from './sign.js'
import { AKID, DOC_NOW, SECRET } from './test-fixtures.js'

const identity = { accessKeyId: AKID, secretAccessKey: SECRET, region: 'us-east-1', now: DOC_NOW }
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

type SourceData = string | ArrayBuffer | ArrayBufferView

const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d)

/** The hash constructor @smithy/signature-v4 wants, on node:crypto. */
class Sha256 {
  readonly #secret: string | Uint8Array | undefined
  #hash: NodeHash | Hmac

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytes(secret)
    this.#hash = this.#create()
  }

  #create(): NodeHash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret)
  }

  update(data: SourceData): void {
    this.#hash.update(bytes(data))
  }

  async digest(): Promise<Uint8Array> {
    return this.#hash.digest()
  }

  reset(): void {
    this.#hash = this.#create()
  }
}

const sdkSigner = (region = 'us-east-1') =>
  new SignatureV4({
    service: 's3',
    region,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  })

describe('signRequestHeaders: AWS documentation vectors', () => {
  it('signs GET object with a Range header', () => {
    const signed = signRequestHeaders({
      ...identity,
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      headers: { Range: 'bytes=0-9' },
    })
    expect(signed.signature).toBe(
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    )
    expect(signed.headers).toEqual({
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY,
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    })
  })

  it('signs PUT object with a Date header, a storage class and a body', () => {
    const signed = signRequestHeaders({
      ...identity,
      method: 'PUT',
      url: '/test%24file.text',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      body: 'Welcome to Amazon S3.',
    })
    expect(signed.headers['x-amz-content-sha256']).toBe(
      '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    )
    expect(signed.signature).toBe(
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    )
  })

  it('signs GET bucket lifecycle', () => {
    const signed = signRequestHeaders({
      ...identity,
      method: 'GET',
      url: 'examplebucket.s3.amazonaws.com/?lifecycle',
    })
    expect(signed.signature).toBe(
      'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
    )
  })

  it('signs list objects', () => {
    const signed = signRequestHeaders({
      ...identity,
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J',
    })
    expect(signed.signature).toBe(
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    )
  })

  it('signs the chunked upload seed and every chunk', () => {
    const signed = signRequestHeaders({
      ...identity,
      method: 'PUT',
      url: 'https://s3.amazonaws.com/examplebucket/chunkObject.txt',
      headers: {
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'content-encoding': 'aws-chunked',
        'content-length': '66824',
        'x-amz-decoded-content-length': '66560',
      },
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    })
    expect(signed.signature).toBe(
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    )
    const body = encodeAwsChunked(Buffer.alloc(66_560, 'a'), { signing: signed.chunkSigning })
    expect(body.length).toBe(66_824)
    const headers = body
      .toString('latin1')
      .split('\r\n')
      .filter((line) => line.includes('chunk-signature'))
    expect(headers).toEqual([
      '10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ])
  })
})

describe('presignUrl', () => {
  it('matches the AWS documentation presigned URL', () => {
    const url = presignUrl({
      ...identity,
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      expiresSeconds: 86_400,
    })
    expect(url).toBe(
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    )
  })
})

describe('signRequestHeaders agrees with @smithy/signature-v4', () => {
  const cases = [
    {
      path: '/bucket/plain.txt',
      query: {} as Record<string, string>,
      headers: {} as Record<string, string>,
    },
    {
      path: `/bucket/${uriEncode('dir/ä €/(x)!*~.txt').replace(/%2F/g, '/')}`,
      query: { 'list-type': '2', prefix: 'a b+c/ä', 'continuation-token': '~x=y&z' },
      headers: { 'x-amz-meta-note': '  spaced   out  ', 'content-type': 'text/plain' },
    },
    {
      path: '/bucket/k',
      query: { uploads: '' },
      headers: { 'x-amz-acl': 'private', 'x-amz-tagging': 'a=b&c=d' },
    },
  ]

  for (const [i, c] of cases.entries()) {
    it(`case ${i}`, async () => {
      const host = 'localhost:9000'
      const sdk = await sdkSigner().sign(
        {
          method: 'PUT',
          protocol: 'http:',
          hostname: 'localhost',
          port: 9000,
          path: c.path,
          query: c.query,
          headers: { host, 'x-amz-content-sha256': EMPTY, ...c.headers },
        },
        { signingDate: new Date(DOC_NOW) },
      )
      const rawQuery = Object.entries(c.query)
        .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
        .join('&')
      const ours = signRequestHeaders({
        ...identity,
        method: 'PUT',
        url: rawQuery === '' ? c.path : `${c.path}?${rawQuery}`,
        headers: { host, ...c.headers },
      })
      expect(ours.headers.authorization).toBe(sdk.headers.authorization)
    })
  }

  it('presigns like the SDK', async () => {
    const sdk = await sdkSigner('eu-west-1').presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'bucket.example.com',
        path: '/a%20b/c',
        query: { 'response-content-type': 'text/plain; charset=utf-8' },
        headers: { host: 'bucket.example.com' },
        // A body the SDK cannot hash makes it sign UNSIGNED-PAYLOAD, as presigned URLs do.
        body: {},
      },
      { signingDate: new Date(DOC_NOW), expiresIn: 600 },
    )
    const ours = presignUrl({
      ...identity,
      region: 'eu-west-1',
      method: 'GET',
      url: `https://bucket.example.com/a%20b/c?response-content-type=${encodeURIComponent('text/plain; charset=utf-8')}`,
      expiresSeconds: 600,
    })
    expect(new URL(ours).searchParams.get('X-Amz-Signature')).toBe(sdk.query?.['X-Amz-Signature'])
  })
})
