import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
const Bucket = 'listing'
const keys = [
  'a.txt',
  'b/1.txt',
  'b/2.txt',
  'b/c/3.txt',
  'c d/é.txt',
  'e+f&g.txt',
  'z',
  '日本/語.txt',
  'Zebra',
  'émile',
  ...Array.from({ length: 25 }, (_, i) => `many/${String(i).padStart(3, '0')}`),
]

beforeAll(async () => {
  server = await startSovra()
  const s3 = s3For(server, 'ap-northeast-1')
  await s3.send(new CreateBucketCommand({ Bucket }))
  await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'ap-northeast-1')
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe('ListObjectsV2', () => {
  it('lists every key in UTF-8 byte order', async () => {
    const out = await s3().send(new ListObjectsV2Command({ Bucket }))
    expect(out.Contents?.map((c) => c.Key)).toEqual([...keys].sort(byUtf8))
    expect(out.KeyCount).toBe(keys.length)
    expect(out.IsTruncated).toBe(false)
  })

  it('groups by delimiter into CommonPrefixes', async () => {
    const out = await s3().send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }))
    expect(out.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/', 'c d/', 'many/', '日本/'])
    expect(out.Contents?.map((c) => c.Key)).toEqual(['Zebra', 'a.txt', 'e+f&g.txt', 'z', 'émile'])
    const inner = await s3().send(
      new ListObjectsV2Command({ Bucket, Delimiter: '/', Prefix: 'b/' }),
    )
    expect(inner.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/c/'])
    expect(inner.Contents?.map((c) => c.Key)).toEqual(['b/1.txt', 'b/2.txt'])
  })

  it('pages with continuation tokens, never repeating or skipping a key', async () => {
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const out: ListObjectsV2CommandOutput = await s3().send(
        new ListObjectsV2Command({ Bucket, MaxKeys: 4, ContinuationToken: token, Delimiter: '/' }),
      )
      pages++
      seen.push(
        ...(out.Contents ?? []).map((c) => c.Key as string),
        ...(out.CommonPrefixes ?? []).map((p) => p.Prefix as string),
      )
      expect((out.Contents?.length ?? 0) + (out.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(4)
      token = out.IsTruncated ? out.NextContinuationToken : undefined
      if (out.IsTruncated) expect(token).toBeTruthy()
    } while (token !== undefined)
    expect(seen.sort(byUtf8)).toEqual([
      'Zebra',
      'a.txt',
      'b/',
      'c d/',
      'e+f&g.txt',
      'many/',
      'z',
      'émile',
      '日本/',
    ])
    expect(pages).toBe(3)
  })

  it('starts after start-after and honours max-keys 0', async () => {
    const out = await s3().send(
      new ListObjectsV2Command({ Bucket, StartAfter: 'many/020', Prefix: 'many/' }),
    )
    expect(out.Contents?.map((c) => c.Key)).toEqual([
      'many/021',
      'many/022',
      'many/023',
      'many/024',
    ])
    const none = await s3().send(new ListObjectsV2Command({ Bucket, MaxKeys: 0 }))
    expect(none.KeyCount).toBe(0)
    expect(none.Contents).toBeUndefined()
  })

  it('url-encodes keys with encoding-type=url', async () => {
    const response = await fetchRaw(`/${Bucket}?list-type=2&prefix=e&encoding-type=url`)
    expect(response).toContain('<Key>e%2Bf%26g.txt</Key>')
  })

  it('returns the owner with fetch-owner', async () => {
    const out = await s3().send(new ListObjectsV2Command({ Bucket, FetchOwner: true, MaxKeys: 1 }))
    expect(out.Contents?.[0]?.Owner?.ID).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('ListObjects (V1)', () => {
  it('pages with marker and NextMarker', async () => {
    const first = await s3().send(new ListObjectsCommand({ Bucket, Prefix: 'many/', MaxKeys: 10 }))
    expect(first.IsTruncated).toBe(true)
    expect(first.Contents?.length).toBe(10)
    const second = await s3().send(
      new ListObjectsCommand({ Bucket, Prefix: 'many/', Marker: first.NextMarker, MaxKeys: 100 }),
    )
    expect(second.Contents?.[0]?.Key).toBe('many/010')
    expect(second.IsTruncated).toBe(false)
  })
})

async function fetchRaw(path: string): Promise<string> {
  const { signRequestHeaders } = await import('../../src/access/index.js')
  const { ROOT } = await import('../support/start-server.js')
  const url = `${server.endpoint('ap-northeast-1')}${path}`
  const signed = signRequestHeaders({
    method: 'GET',
    url,
    accessKeyId: ROOT.accessKeyId,
    secretAccessKey: ROOT.secretAccessKey,
    region: 'ap-northeast-1',
    now: Date.now(),
  })
  const res = await fetch(url, { headers: signed.headers })
  return res.text()
}
