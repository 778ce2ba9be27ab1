import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
const Bucket = 'multi'
const MiB = 1024 * 1024
beforeAll(async () => {
  server = await startSovra()
  await s3().send(new CreateBucketCommand({ Bucket }))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'us-east-1')
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest()

function blobFiles(): number {
  const root = join(server.dataDir, 'dcs', 'us-east-1', 'blobs')
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .length
}

describe('multipart uploads', () => {
  it('uploads 40 MiB with lib-storage and reads it back with the composite ETag', async () => {
    const body = randomBytes(40 * MiB)
    const upload = new Upload({
      client: s3(),
      params: { Bucket, Key: 'big.bin', Body: body },
      partSize: 8 * MiB,
      queueSize: 4,
    })
    await upload.done()
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'big.bin' }))
    const parts = [0, 1, 2, 3, 4].map((i) => md5(body.subarray(i * 8 * MiB, (i + 1) * 8 * MiB)))
    expect(head.ETag).toBe(`"${md5(Buffer.concat(parts)).toString('hex')}-5"`)
    expect(head.ContentLength).toBe(40 * MiB)
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'big.bin' }))
    expect(sha((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(body))
    const ranged = await s3().send(
      new GetObjectCommand({
        Bucket,
        Key: 'big.bin',
        Range: `bytes=${8 * MiB - 5}-${8 * MiB + 4}`,
      }),
    )
    expect(Buffer.from((await ranged.Body?.transformToByteArray()) ?? [])).toEqual(
      body.subarray(8 * MiB - 5, 8 * MiB + 5),
    )
    const part2 = await s3().send(new GetObjectCommand({ Bucket, Key: 'big.bin', PartNumber: 2 }))
    expect(part2.PartsCount).toBe(5)
    expect(sha((await part2.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(
      sha(body.subarray(8 * MiB, 16 * MiB)),
    )
  })

  it('lists uploads and parts, completes with checks, and aborts', async () => {
    const created = await s3().send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key: 'manual',
        ContentType: 'video/mp4',
        Metadata: { m: '1' },
      }),
    )
    const UploadId = created.UploadId as string
    const p1 = randomBytes(5 * MiB)
    const p2 = randomBytes(1000)
    const r1 = await s3().send(
      new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 1, Body: p1 }),
    )
    const r2 = await s3().send(
      new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 2, Body: p2 }),
    )
    const uploads = await s3().send(new ListMultipartUploadsCommand({ Bucket }))
    expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(UploadId)
    const parts = await s3().send(new ListPartsCommand({ Bucket, Key: 'manual', UploadId }))
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * MiB],
      [2, 1000],
    ])
    const paged = await s3().send(
      new ListPartsCommand({ Bucket, Key: 'manual', UploadId, MaxParts: 1 }),
    )
    expect(paged.IsTruncated).toBe(true)
    expect(paged.NextPartNumberMarker).toBe('1')

    const wrongEtag = await s3Error(
      s3().send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'manual',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00"' }] },
        }),
      ),
    )
    expect(wrongEtag.name).toBe('InvalidPart')
    const order = await s3Error(
      s3().send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'manual',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 2, ETag: r2.ETag },
              { PartNumber: 1, ETag: r1.ETag },
            ],
          },
        }),
      ),
    )
    expect(order.name).toBe('InvalidPartOrder')
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'manual',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: r1.ETag },
            { PartNumber: 2, ETag: r2.ETag },
          ],
        },
      }),
    )
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'manual' }))
    expect(head.ContentType).toBe('video/mp4')
    expect(head.Metadata).toEqual({ m: '1' })
    expect(head.ContentLength).toBe(5 * MiB + 1000)
    const gone = await s3Error(s3().send(new ListPartsCommand({ Bucket, Key: 'manual', UploadId })))
    expect(gone.name).toBe('NoSuchUpload')
  })

  it('refuses a part smaller than 5 MiB that is not the last with EntityTooSmall', async () => {
    const { UploadId } = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'small-parts' }),
    )
    const a = await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: 'small-parts',
        UploadId,
        PartNumber: 1,
        Body: randomBytes(1000),
      }),
    )
    const b = await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: 'small-parts',
        UploadId,
        PartNumber: 2,
        Body: randomBytes(1000),
      }),
    )
    const err = await s3Error(
      s3().send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'small-parts',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: a.ETag },
              { PartNumber: 2, ETag: b.ETag },
            ],
          },
        }),
      ),
    )
    expect(err.name).toBe('EntityTooSmall')
    expect(
      (await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 'small-parts' })))).$metadata
        .httpStatusCode,
    ).toBe(404)
  })

  it('aborts an upload and removes its parts from disk', async () => {
    const before = blobFiles()
    const { UploadId } = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'aborted' }),
    )
    await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: 'aborted',
        UploadId,
        PartNumber: 1,
        Body: randomBytes(100_000),
      }),
    )
    expect(blobFiles()).toBe(before + 1)
    await s3().send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId }))
    expect(blobFiles()).toBe(before)
    const err = await s3Error(
      s3().send(
        new UploadPartCommand({ Bucket, Key: 'aborted', UploadId, PartNumber: 2, Body: 'x' }),
      ),
    )
    expect(err.name).toBe('NoSuchUpload')
  })

  it('refuses part numbers outside 1..10000 and unknown upload ids', async () => {
    const { UploadId } = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'bounds' }),
    )
    const err = await s3Error(
      s3().send(
        new UploadPartCommand({ Bucket, Key: 'bounds', UploadId, PartNumber: 10001, Body: 'x' }),
      ),
    )
    expect(err.name).toBe('InvalidArgument')
    const unknown = await s3Error(
      s3().send(
        new UploadPartCommand({
          Bucket,
          Key: 'bounds',
          UploadId: 'nope',
          PartNumber: 1,
          Body: 'x',
        }),
      ),
    )
    expect(unknown.name).toBe('NoSuchUpload')
  })

  it('copies a range of an object into a part with UploadPartCopy', async () => {
    const source = randomBytes(6 * MiB)
    await s3().send(new PutObjectCommand({ Bucket, Key: 'copy-src', Body: source }))
    const { UploadId } = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'from-copy' }),
    )
    const c1 = await s3().send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'from-copy',
        UploadId,
        PartNumber: 1,
        CopySource: `${Bucket}/copy-src`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    )
    const c2 = await s3().send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'from-copy',
        UploadId,
        PartNumber: 2,
        CopySource: `${Bucket}/copy-src`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    )
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'from-copy',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: c1.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: c2.CopyPartResult?.ETag },
          ],
        },
      }),
    )
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'from-copy' }))
    expect(sha((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(source))
    const bad = await s3Error(
      s3().send(
        new UploadPartCopyCommand({
          Bucket,
          Key: 'from-copy',
          UploadId: 'x',
          PartNumber: 1,
          CopySource: `${Bucket}/copy-src`,
        }),
      ),
    )
    expect(bad.name).toBe('NoSuchUpload')
  })
})
