import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For, s3ForAll } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
beforeAll(async () => {
  server = await startSovra()
})
afterAll(async () => {
  await server?.stop()
})

describe('buckets across data centers', () => {
  it('creates buckets in three data centers, each at its own endpoint, and lists them with their regions', async () => {
    for (const dc of ['us-west-1', 'ap-southeast-1', 'cn-hangzhou']) {
      await s3For(server, dc).send(new CreateBucketCommand({ Bucket: `b-${dc}` }))
    }
    const list = await s3For(server, 'us-west-1').send(new ListBucketsCommand({}))
    const regions = Object.fromEntries((list.Buckets ?? []).map((b) => [b.Name, b.BucketRegion]))
    expect(regions).toMatchObject({
      'b-us-west-1': 'us-west-1',
      'b-ap-southeast-1': 'ap-southeast-1',
      'b-cn-hangzhou': 'cn-hangzhou',
    })
    const location = await s3For(server, 'ap-southeast-1').send(
      new GetBucketLocationCommand({ Bucket: 'b-ap-southeast-1' }),
    )
    expect(location.LocationConstraint).toBe('ap-southeast-1')
  })

  it("keeps a bucket's bytes and metadata only under its own data center's folder", async () => {
    const s3 = s3For(server, 'me-east-1')
    await s3.send(new CreateBucketCommand({ Bucket: 'resident' }))
    await s3.send(
      new PutObjectCommand({ Bucket: 'resident', Key: 'big', Body: Buffer.alloc(200_000, 7) }),
    )
    const blobsOf = (dc: string) => {
      const root = join(server.dataDir, 'dcs', dc, 'blobs')
      if (!existsSync(root)) return 0
      return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        .length
    }
    expect(blobsOf('me-east-1')).toBeGreaterThan(0)
    expect(blobsOf('us-west-1') + blobsOf('ap-northeast-1') + blobsOf('us-east-1')).toBe(0)
  })

  it('refuses a LocationConstraint naming another data center with IllegalLocationConstraintException', async () => {
    const err = await s3Error(
      s3For(server, 'us-west-1').send(
        new CreateBucketCommand({
          Bucket: 'elsewhere',
          CreateBucketConfiguration: { LocationConstraint: 'ap-southeast-1' },
        }),
      ),
    )
    expect(err.name).toBe('IllegalLocationConstraintException')
    expect(err.$metadata.httpStatusCode).toBe(400)
  })

  it('accepts a LocationConstraint equal to the endpoint data center', async () => {
    await s3For(server, 'ap-northeast-1').send(
      new CreateBucketCommand({
        Bucket: 'tokyo-ok',
        CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
      }),
    )
    const head = await s3For(server, 'ap-northeast-1').send(
      new HeadBucketCommand({ Bucket: 'tokyo-ok' }),
    )
    expect(head.BucketRegion).toBe('ap-northeast-1')
  })

  it('refuses new buckets at a planned data center', async () => {
    const err = await s3Error(
      s3For(server, 'ap-south-1').send(new CreateBucketCommand({ Bucket: 'mumbai-early' })),
    )
    expect(err.$metadata.httpStatusCode).toBe(400)
  })

  it('gives BucketAlreadyOwnedByYou and BucketAlreadyExists as S3 does, names being global', async () => {
    await s3For(server, 'us-east-1').send(new CreateBucketCommand({ Bucket: 'taken-name' }))
    const again = await s3Error(
      s3For(server, 'us-east-1').send(new CreateBucketCommand({ Bucket: 'taken-name' })),
    )
    expect(again.name).toBe('BucketAlreadyOwnedByYou')
    const elsewhere = await s3Error(
      s3For(server, 'us-west-1').send(new CreateBucketCommand({ Bucket: 'taken-name' })),
    )
    // At another data center too: the name is taken, not redirected.
    expect([elsewhere.name, elsewhere.$metadata.httpStatusCode]).toEqual([
      'BucketAlreadyOwnedByYou',
      409,
    ])
  })

  it('refuses invalid bucket names with InvalidBucketName and creates nothing', async () => {
    const s3 = s3For(server, 'us-west-1')
    for (const name of ['UPPER', 'a_b', 'x', '192.168.0.1']) {
      const err = await s3Error(s3.send(new CreateBucketCommand({ Bucket: name })))
      expect(err.$metadata.httpStatusCode).toBe(400)
    }
    const list = await s3.send(new ListBucketsCommand({}))
    expect((list.Buckets ?? []).map((b) => b.Name)).not.toContain('UPPER')
  })

  it('deletes only empty buckets (BucketNotEmpty) and frees the name', async () => {
    const s3 = s3For(server, 'us-west-1')
    await s3.send(new CreateBucketCommand({ Bucket: 'to-delete' }))
    await s3.send(new PutObjectCommand({ Bucket: 'to-delete', Key: 'k', Body: 'x' }))
    const err = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'to-delete' })))
    expect(err.name).toBe('BucketNotEmpty')
    expect(err.$metadata.httpStatusCode).toBe(409)
  })
})

describe('cross-data-center redirect', () => {
  it('answers 301 PermanentRedirect with x-amz-bucket-region and never the bytes', async () => {
    const home = s3For(server, 'ap-southeast-1')
    await home.send(new CreateBucketCommand({ Bucket: 'photos-sg' }))
    await home.send(
      new PutObjectCommand({ Bucket: 'photos-sg', Key: 'secret.txt', Body: 'sg-only-bytes' }),
    )
    const err = await s3Error(
      s3For(server, 'us-west-1').send(
        new GetObjectCommand({ Bucket: 'photos-sg', Key: 'secret.txt' }),
      ),
    )
    expect(err.$metadata.httpStatusCode).toBe(301)
    expect(err.$response?.headers['x-amz-bucket-region']).toBe('ap-southeast-1')
    expect(JSON.stringify(err)).not.toContain('sg-only-bytes')
  })

  it('redirects again a request signed for the home region but sent to another endpoint', async () => {
    const home = server.endpoint('ap-southeast-1')
    const elsewhere = server.endpoint('us-west-1')
    registerRegion(elsewhere, 'us-west-1')
    const res = await rawRequest(elsewhere, '/photos-sg/secret.txt', { region: 'ap-southeast-1' })
    expect(res.status).toBe(301)
    expect(res.headers['x-amz-bucket-region']).toBe('ap-southeast-1')
    expect(res.body).toContain(`<Endpoint>${new URL(home).host}</Endpoint>`)
    expect(res.body).not.toContain('sg-only-bytes')
    const forged = await rawRequest(elsewhere, '/photos-sg/secret.txt', {
      region: 'ap-southeast-1',
      credentials: { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'not-the-secret' },
    })
    expect(forged.status).toBe(400)
    expect(forged.body).toContain('<Code>AuthorizationHeaderMalformed</Code>')
  })

  it('answers GetBucketLocation at any endpoint with the bucket home', async () => {
    const out = await s3For(server, 'us-west-1').send(
      new GetBucketLocationCommand({ Bucket: 'photos-sg' }),
    )
    expect(out.LocationConstraint).toBe('ap-southeast-1')
  })

  it('lets the SDK with followRegionRedirects end up at the bucket home endpoint', async () => {
    await s3For(server, 'ap-northeast-1').send(new CreateBucketCommand({ Bucket: 'follow-me' }))
    await s3For(server, 'ap-northeast-1').send(
      new PutObjectCommand({ Bucket: 'follow-me', Key: 'k', Body: 'from tokyo' }),
    )
    const client: S3Client = s3ForAll(server, { region: 'us-west-1', followRegionRedirects: true })
    const got = await client.send(new GetObjectCommand({ Bucket: 'follow-me', Key: 'k' }))
    expect(await got.Body?.transformToString()).toBe('from tokyo')
  })
})
