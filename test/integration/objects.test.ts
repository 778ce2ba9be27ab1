import { createHash, randomBytes } from 'node:crypto'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
const Bucket = 'objects'
beforeAll(async () => {
  server = await startSovra()
  await s3For(server, 'us-west-1').send(new CreateBucketCommand({ Bucket }))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'us-west-1')
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('PutObject and GetObject', () => {
  it.each([0, 1, 4096, 65_536, 65_537, 3 * 1024 * 1024 + 17])(
    'round-trips %i bytes with an MD5 ETag',
    async (size) => {
      const body = randomBytes(size)
      const key = `size-${size}`
      const put = await s3().send(new PutObjectCommand({ Bucket, Key: key, Body: body }))
      expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`)
      const got = await s3().send(new GetObjectCommand({ Bucket, Key: key }))
      const bytes = await got.Body?.transformToByteArray()
      expect(sha(bytes ?? new Uint8Array())).toBe(sha(body))
      expect(got.ContentLength).toBe(size)
    },
  )

  it('stores and returns user metadata and standard headers', async () => {
    await s3().send(
      new PutObjectCommand({
        Bucket,
        Key: 'meta.txt',
        Body: 'x',
        ContentType: 'text/plain; charset=utf-8',
        ContentEncoding: 'identity',
        ContentDisposition: 'attachment; filename="m.txt"',
        CacheControl: 'max-age=60',
        Expires: new Date('2030-01-01T00:00:00Z'),
        Metadata: { owner: 'alice', 'project-id': '42' },
      }),
    )
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'meta.txt' }))
    expect(head.ContentType).toBe('text/plain; charset=utf-8')
    expect(head.ContentEncoding).toBe('identity')
    expect(head.ContentDisposition).toBe('attachment; filename="m.txt"')
    expect(head.CacheControl).toBe('max-age=60')
    expect(head.Expires?.toISOString()).toBe('2030-01-01T00:00:00.000Z')
    expect(head.Metadata).toEqual({ owner: 'alice', 'project-id': '42' })
  })

  it('applies response-* overrides on GET', async () => {
    const got = await s3().send(
      new GetObjectCommand({
        Bucket,
        Key: 'meta.txt',
        ResponseContentType: 'application/json',
        ResponseCacheControl: 'no-store',
      }),
    )
    expect(got.ContentType).toBe('application/json')
    expect(got.CacheControl).toBe('no-store')
  })

  it('serves ranges a-b, a- and -n with 206, and 416 InvalidRange past the end', async () => {
    const body = Buffer.from('0123456789abcdefghij')
    for (const [size, key] of [
      [body, 'range-inline'],
      [Buffer.concat([randomBytes(100_000), body]), 'range-blob'],
    ] as const) {
      await s3().send(new PutObjectCommand({ Bucket, Key: key, Body: size }))
      const total = size.length
      const get = async (Range: string) => {
        const r = await s3().send(new GetObjectCommand({ Bucket, Key: key, Range }))
        return {
          bytes: Buffer.from((await r.Body?.transformToByteArray()) ?? []),
          range: r.ContentRange,
        }
      }
      expect((await get('bytes=2-5')).bytes).toEqual(size.subarray(2, 6))
      expect((await get('bytes=2-5')).range).toBe(`bytes 2-5/${total}`)
      expect((await get(`bytes=${total - 3}-`)).bytes).toEqual(size.subarray(total - 3))
      expect((await get('bytes=-4')).bytes).toEqual(size.subarray(total - 4))
      expect((await get(`bytes=5-${total + 100}`)).bytes).toEqual(size.subarray(5))
      const err = await s3Error(
        s3().send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=${total}-` })),
      )
      expect(err.name).toBe('InvalidRange')
      expect(err.$metadata.httpStatusCode).toBe(416)
    }
  })

  it('answers conditional GET and HEAD with 304 and 412', async () => {
    const put = await s3().send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'c' }))
    const etag = put.ETag as string
    const ok = await s3().send(new GetObjectCommand({ Bucket, Key: 'cond', IfMatch: etag }))
    expect(ok.ETag).toBe(etag)
    const failed = await s3Error(
      s3().send(new GetObjectCommand({ Bucket, Key: 'cond', IfMatch: '"nope"' })),
    )
    expect(failed.$metadata.httpStatusCode).toBe(412)
    expect(failed.name).toBe('PreconditionFailed')
    const notModified = await s3Error(
      s3().send(new GetObjectCommand({ Bucket, Key: 'cond', IfNoneMatch: etag })),
    )
    expect(notModified.$metadata.httpStatusCode).toBe(304)
    const future = new Date(Date.now() + 3600_000)
    const since = await s3Error(
      s3().send(new HeadObjectCommand({ Bucket, Key: 'cond', IfModifiedSince: future })),
    )
    expect(since.$metadata.httpStatusCode).toBe(304)
    const past = new Date(Date.now() - 3600_000)
    const unmodified = await s3Error(
      s3().send(new HeadObjectCommand({ Bucket, Key: 'cond', IfUnmodifiedSince: past })),
    )
    expect(unmodified.$metadata.httpStatusCode).toBe(412)
  })

  it('honours conditional PUT: If-None-Match * refuses to overwrite, If-Match needs the current ETag', async () => {
    const first = await s3().send(
      new PutObjectCommand({ Bucket, Key: 'cput', Body: 'one', IfNoneMatch: '*' }),
    )
    const again = await s3Error(
      s3().send(new PutObjectCommand({ Bucket, Key: 'cput', Body: 'two', IfNoneMatch: '*' })),
    )
    expect(again.$metadata.httpStatusCode).toBe(412)
    const wrong = await s3Error(
      s3().send(new PutObjectCommand({ Bucket, Key: 'cput', Body: 'two', IfMatch: '"0000"' })),
    )
    expect(wrong.$metadata.httpStatusCode).toBe(412)
    await s3().send(
      new PutObjectCommand({ Bucket, Key: 'cput', Body: 'three', IfMatch: first.ETag }),
    )
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'cput' }))
    expect(await got.Body?.transformToString()).toBe('three')
  })

  it('validates Content-MD5 (BadDigest) and stores nothing on mismatch', async () => {
    const err = await s3Error(
      s3().send(
        new PutObjectCommand({
          Bucket,
          Key: 'bad-md5',
          Body: 'hello',
          ContentMD5: createHash('md5').update('other').digest('base64'),
        }),
      ),
    )
    expect(err.name).toBe('BadDigest')
    const missing = await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 'bad-md5' })))
    expect(missing.$metadata.httpStatusCode).toBe(404)
  })

  it.each(['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const)(
    'validates, stores and returns an x-amz-checksum of %s',
    async (ChecksumAlgorithm) => {
      const body = randomBytes(70_000)
      const key = `sum-${ChecksumAlgorithm}`
      const put = await s3().send(
        new PutObjectCommand({ Bucket, Key: key, Body: body, ChecksumAlgorithm }),
      )
      const field = `Checksum${ChecksumAlgorithm}` as const
      expect(put[field]).toBeTruthy()
      const head = await s3().send(
        new HeadObjectCommand({ Bucket, Key: key, ChecksumMode: 'ENABLED' }),
      )
      expect(head[field]).toBe(put[field])
    },
  )

  it('refuses a wrong checksum with BadDigest', async () => {
    const err = await s3Error(
      s3().send(
        new PutObjectCommand({
          Bucket,
          Key: 'bad-sum',
          Body: 'hello',
          ChecksumSHA256: createHash('sha256').update('x').digest('base64'),
        }),
      ),
    )
    expect(err.name).toBe('BadDigest')
  })

  it('refuses keys over 1024 bytes with KeyTooLongError', async () => {
    const err = await s3Error(
      s3().send(new PutObjectCommand({ Bucket, Key: 'k'.repeat(1025), Body: 'x' })),
    )
    expect(err.name).toBe('KeyTooLongError')
  })

  it('answers NoSuchKey for a missing key and NoSuchBucket for a missing bucket', async () => {
    expect((await s3Error(s3().send(new GetObjectCommand({ Bucket, Key: 'absent' })))).name).toBe(
      'NoSuchKey',
    )
    expect(
      (await s3Error(s3().send(new GetObjectCommand({ Bucket: 'no-such-bucket-x', Key: 'a' }))))
        .name,
    ).toBe('NoSuchBucket')
  })
})

describe('CopyObject', () => {
  it('copies with metadata directive COPY and REPLACE', async () => {
    await s3().send(
      new PutObjectCommand({
        Bucket,
        Key: 'src',
        Body: 'copy me',
        ContentType: 'text/x-src',
        Metadata: { a: '1' },
      }),
    )
    await s3().send(new CopyObjectCommand({ Bucket, Key: 'dst1', CopySource: `${Bucket}/src` }))
    const h1 = await s3().send(new HeadObjectCommand({ Bucket, Key: 'dst1' }))
    expect(h1.ContentType).toBe('text/x-src')
    expect(h1.Metadata).toEqual({ a: '1' })
    await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'dst2',
        CopySource: `${Bucket}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/new',
        Metadata: { b: '2' },
      }),
    )
    const h2 = await s3().send(new HeadObjectCommand({ Bucket, Key: 'dst2' }))
    expect(h2.ContentType).toBe('text/new')
    expect(h2.Metadata).toEqual({ b: '2' })
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'dst2' }))
    expect(await got.Body?.transformToString()).toBe('copy me')
  })

  it('copies keys with awkward characters and large blob-backed objects', async () => {
    const body = randomBytes(300_000)
    await s3().send(new PutObjectCommand({ Bucket, Key: 'dir/é & + x.bin', Body: body }))
    await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'copy/é & + x.bin',
        CopySource: encodeURI(`${Bucket}/dir/é & + x.bin`)
          .replace(/\+/g, '%2B')
          .replace(/&/g, '%26'),
      }),
    )
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'copy/é & + x.bin' }))
    expect(sha((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(body))
  })

  it('checks x-amz-copy-source-if-match', async () => {
    const err = await s3Error(
      s3().send(
        new CopyObjectCommand({
          Bucket,
          Key: 'dst3',
          CopySource: `${Bucket}/src`,
          CopySourceIfMatch: '"abc"',
        }),
      ),
    )
    expect(err.$metadata.httpStatusCode).toBe(412)
  })

  it('refuses to copy an object onto itself without REPLACE', async () => {
    const err = await s3Error(
      s3().send(new CopyObjectCommand({ Bucket, Key: 'src', CopySource: `${Bucket}/src` })),
    )
    expect(err.name).toBe('InvalidRequest')
  })

  it('refuses a copy whose source bucket is in another data center, naming the transfer gate', async () => {
    await s3For(server, 'ap-southeast-1').send(new CreateBucketCommand({ Bucket: 'sg-source' }))
    await s3For(server, 'ap-southeast-1').send(
      new PutObjectCommand({ Bucket: 'sg-source', Key: 'k', Body: 'sg' }),
    )
    const err = await s3Error(
      s3().send(new CopyObjectCommand({ Bucket, Key: 'stolen', CopySource: 'sg-source/k' })),
    )
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toContain('transfer gate')
    expect(
      (await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 'stolen' })))).$metadata
        .httpStatusCode,
    ).toBe(404)
  })
})

describe('DeleteObject and DeleteObjects', () => {
  it('deletes one key (204 even when absent)', async () => {
    await s3().send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }))
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'gone' }))
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'gone' }))
    expect(
      (await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 'gone' })))).$metadata
        .httpStatusCode,
    ).toBe(404)
  })

  it('deletes many keys, verbose and quiet', async () => {
    for (const k of ['m1', 'm2', 'm3'])
      await s3().send(new PutObjectCommand({ Bucket, Key: k, Body: k }))
    const verbose = await s3().send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'm1' }, { Key: 'm2' }] } }),
    )
    expect(verbose.Deleted?.map((d) => d.Key).sort()).toEqual(['m1', 'm2'])
    const quiet = await s3().send(
      new DeleteObjectsCommand({ Bucket, Delete: { Quiet: true, Objects: [{ Key: 'm3' }] } }),
    )
    expect(quiet.Deleted ?? []).toEqual([])
    expect(quiet.Errors ?? []).toEqual([])
    expect(
      (await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 'm3' })))).$metadata
        .httpStatusCode,
    ).toBe(404)
  })

  it('lists every object as its single null version', async () => {
    await s3().send(new PutObjectCommand({ Bucket, Key: 'v/one', Body: '1' }))
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket, Prefix: 'v/' }))
    expect(versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([
      ['v/one', 'null', true],
    ])
  })
})
