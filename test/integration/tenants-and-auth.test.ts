import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presignUrl } from '../../src/access/index.js'
import { type Directory, openDirectory } from '../../src/directory/index.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let directory: Directory
let alice: { accessKeyId: string; secretAccessKey: string }
let bob: { accessKeyId: string; secretAccessKey: string }

beforeAll(async () => {
  server = await startSovra()
  directory = await openDirectory({ dataDir: server.dataDir })
  await directory.createTenant({ name: 'alice' })
  await directory.createTenant({ name: 'bob' })
  alice = await directory.createAccessKey('alice', {})
  bob = await directory.createAccessKey('bob', {
    accessKeyId: 'BOBIMPORTEDKEY000001',
    secretAccessKey: 'bob-imported-secret-from-minio-000000000',
  })
})
afterAll(async () => {
  await directory?.close()
  await server?.stop()
})

describe('tenants are isolated', () => {
  it("keeps each tenant's buckets and objects to itself", async () => {
    const a = s3For(server, 'us-west-1', alice)
    const b = s3For(server, 'us-west-1', bob)
    await a.send(new CreateBucketCommand({ Bucket: 'alice-data' }))
    await a.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'diary', Body: 'private' }))
    await b.send(new CreateBucketCommand({ Bucket: 'bob-data' }))
    const bobsList = await b.send(new ListBucketsCommand({}))
    expect(bobsList.Buckets?.map((x) => x.Name)).toEqual(['bob-data'])
    const read = await s3Error(b.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'diary' })))
    expect([read.name, read.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
    const list = await s3Error(b.send(new ListObjectsV2Command({ Bucket: 'alice-data' })))
    expect(list.name).toBe('AccessDenied')
    const overwrite = await s3Error(
      b.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'diary', Body: 'bob was here' })),
    )
    expect(overwrite.name).toBe('AccessDenied')
    const steal = await s3Error(b.send(new CreateBucketCommand({ Bucket: 'alice-data' })))
    expect(steal.name).toBe('BucketAlreadyExists')
    const still = await a.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'diary' }))
    expect(await still.Body?.transformToString()).toBe('private')
  })

  it('works with an imported access key, as operators migrating from another S3 store need', async () => {
    const b = s3For(server, 'us-west-1', bob)
    await b.send(new PutObjectCommand({ Bucket: 'bob-data', Key: 'k', Body: 'v' }))
    expect(bob.accessKeyId).toBe('BOBIMPORTEDKEY000001')
  })

  it('refuses a revoked key within about a second', async () => {
    const temp = await directory.createAccessKey('alice', {})
    const s3 = s3For(server, 'us-west-1', temp)
    await s3.send(new ListBucketsCommand({}))
    await directory.revokeAccessKey(temp.accessKeyId)
    await new Promise((r) => setTimeout(r, 1100))
    const err = await s3Error(s3.send(new ListBucketsCommand({})))
    expect(err.$metadata.httpStatusCode).toBe(403)
  })
})

describe('presigned URLs', () => {
  it('serves a presigned GET and accepts a presigned PUT made by the SDK presigner', async () => {
    const a = s3For(server, 'us-west-1', alice)
    const putUrl = await getSignedUrl(
      a,
      new PutObjectCommand({ Bucket: 'alice-data', Key: 'via-presigned' }),
      { expiresIn: 300 },
    )
    const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' })
    expect(put.status).toBe(200)
    const getUrl = await getSignedUrl(
      a,
      new GetObjectCommand({ Bucket: 'alice-data', Key: 'via-presigned' }),
      { expiresIn: 300 },
    )
    const get = await fetch(getUrl)
    expect(get.status).toBe(200)
    expect(await get.text()).toBe('presigned body')
  })

  it('refuses an expired presigned URL with 403 AccessDenied', async () => {
    const url = presignUrl({
      method: 'GET',
      url: `${server.endpoint('us-west-1')}/alice-data/diary`,
      expiresSeconds: 60,
      accessKeyId: alice.accessKeyId,
      secretAccessKey: alice.secretAccessKey,
      region: 'us-west-1',
      now: Date.now() - 120_000,
    })
    const res = await fetch(url)
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('<Code>AccessDenied</Code>')
  })

  it('refuses a presigned URL whose signature was altered', async () => {
    const a = s3For(server, 'us-west-1', alice)
    const url = await getSignedUrl(
      a,
      new GetObjectCommand({ Bucket: 'alice-data', Key: 'diary' }),
      { expiresIn: 300 },
    )
    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    )
    const res = await fetch(tampered)
    expect(res.status).toBe(403)
  })
})

describe('operations', () => {
  it('exposes Prometheus metrics by data center and operation on the admin port', async () => {
    await s3For(server, 'ap-southeast-1').send(new ListBucketsCommand({}))
    const text = await (await fetch(`${server.sovra.adminEndpoint}/metrics`)).text()
    expect(text).toMatch(
      /sovra_s3_requests_total\{dc="ap-southeast-1",op="ListBuckets",status="200"\} \d+/,
    )
    expect(text).toContain('sovra_s3_request_duration_seconds_bucket')
  })

  it('never writes secrets or signatures to the log', async () => {
    const joined = server.logs.join('\n')
    expect(joined.length).toBeGreaterThan(0)
    for (const secret of [ROOT.secretAccessKey, alice.secretAccessKey, bob.secretAccessKey])
      expect(joined).not.toContain(secret)
    expect(joined).not.toMatch(/Signature=[0-9a-f]{64}/)
  })
})
