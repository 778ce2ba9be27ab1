// Multipart checksum types through the AWS SDK v3: FULL_OBJECT (the parts' CRCs combined into
// the CRC of the whole object) for CRC32, CRC32C and CRC64NVME, COMPOSITE (checksum of the
// parts' checksums), the errors S3 answers for bad combinations and wrong checksums, the
// per-part checksums GetObjectAttributes lists, and lib-storage's defaults end to end.
import { createHash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketRequestPaymentCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketRequestPaymentCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { crc32c } from '@node-rs/crc32'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Crc64Nvme } from '../../src/s3-api/crc64nvme.js'
import { rawRequest } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
const Bucket = 'sums'
const MiB = 1024 * 1024
beforeAll(async () => {
  server = await startSovra()
  await s3().send(new CreateBucketCommand({ Bucket }))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'us-east-1')

/** The checksum of bytes, computed here independently of the server's code paths. */
function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n >>> 0)
    return b
  }
  switch (algorithm) {
    case 'CRC32':
      return u32(crc32(data))
    case 'CRC32C':
      return u32(crc32c(data))
    case 'CRC64NVME':
      return new Crc64Nvme().update(data).digest()
    case 'SHA1':
      return createHash('sha1').update(data).digest()
    default:
      return createHash('sha256').update(data).digest()
  }
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
/** A body read whole, by its SHA-256 (comparing MiBs with toEqual is very slow). */
async function bodySha(body: { transformToByteArray(): Promise<Uint8Array> } | undefined) {
  return sha((await body?.transformToByteArray()) ?? new Uint8Array())
}
const b64 = (algorithm: ChecksumAlgorithm, data: Buffer) =>
  checksumOf(algorithm, data).toString('base64')
const field = (algorithm: ChecksumAlgorithm) => `Checksum${algorithm}` as const

/** Creates an upload and sends its parts (the SDK checksums each in the upload's algorithm). */
async function uploadParts(
  Key: string,
  parts: Buffer[],
  checksum: { algorithm: ChecksumAlgorithm; type?: ChecksumType },
): Promise<{ UploadId: string; completed: CompletedPart[] }> {
  const created = await s3().send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      ChecksumAlgorithm: checksum.algorithm,
      ...(checksum.type === undefined ? {} : { ChecksumType: checksum.type }),
    }),
  )
  const UploadId = created.UploadId as string
  const completed: CompletedPart[] = []
  for (const [i, Body] of parts.entries()) {
    const r = await s3().send(
      new UploadPartCommand({
        Bucket,
        Key,
        UploadId,
        PartNumber: i + 1,
        Body,
        ChecksumAlgorithm: checksum.algorithm,
      }),
    )
    const value = r[field(checksum.algorithm)]
    expect(value).toBe(b64(checksum.algorithm, Body))
    completed.push({ PartNumber: i + 1, ETag: r.ETag, [field(checksum.algorithm)]: value })
  }
  return { UploadId, completed }
}

describe('multipart checksum types', () => {
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`FULL_OBJECT ${algorithm}: the object's checksum is the CRC of all its bytes`, async () => {
      const Key = `full-${algorithm}`
      const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)]
      const whole = Buffer.concat(parts)
      const expected = b64(algorithm, whole)
      const { UploadId, completed } = await uploadParts(Key, parts, {
        algorithm,
        type: 'FULL_OBJECT',
      })
      // A wrong whole-object checksum is refused, and the upload is still there to complete.
      const wrong = b64(algorithm, Buffer.from('not the object'))
      const bad = await s3Error(
        s3().send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: completed },
            [field(algorithm)]: wrong,
            ChecksumType: 'FULL_OBJECT',
          }),
        ),
      )
      expect(bad.name).toBe('BadDigest')
      expect(bad.$metadata.httpStatusCode).toBe(400)
      const done = await s3().send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: completed },
          [field(algorithm)]: expected,
          ChecksumType: 'FULL_OBJECT',
          MpuObjectSize: whole.length,
        }),
      )
      expect(done[field(algorithm)]).toBe(expected)
      expect(done.ChecksumType).toBe('FULL_OBJECT')
      const head = await s3().send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }))
      expect(head[field(algorithm)]).toBe(expected)
      expect(head.ChecksumType).toBe('FULL_OBJECT')
      // The SDK checks the full-object checksum against the bytes it reads.
      const got = await s3().send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }))
      expect(await bodySha(got.Body)).toBe(sha(whole))
      expect(got[field(algorithm)]).toBe(expected)
    })
  }

  it('COMPOSITE SHA256: the checksum of the parts’ checksums, and each part’s own on GET ?partNumber', async () => {
    const Key = 'composite-sha256'
    const parts = [randomBytes(5 * MiB), randomBytes(999)]
    const { UploadId, completed } = await uploadParts(Key, parts, { algorithm: 'SHA256' })
    const done = await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: completed },
      }),
    )
    const composite = createHash('sha256')
      .update(Buffer.concat(parts.map((p) => checksumOf('SHA256', p))))
      .digest('base64')
    expect(done.ChecksumSHA256).toBe(`${composite}-2`)
    expect(done.ChecksumType).toBe('COMPOSITE')
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }))
    expect(head.ChecksumSHA256).toBe(`${composite}-2`)
    expect(head.ChecksumType).toBe('COMPOSITE')
    const part2 = await s3().send(
      new GetObjectCommand({ Bucket, Key, PartNumber: 2, ChecksumMode: 'ENABLED' }),
    )
    expect(part2.ChecksumSHA256).toBe(b64('SHA256', parts[1] as Buffer))
    expect(await bodySha(part2.Body)).toBe(sha(parts[1] as Buffer))
  })

  it('refuses checksum types an algorithm does not allow, and a type without an algorithm', async () => {
    const cases: Array<[ChecksumAlgorithm | undefined, ChecksumType, string]> = [
      ['SHA256', 'FULL_OBJECT', 'The FULL_OBJECT checksum type cannot be used with the sha256'],
      ['SHA1', 'FULL_OBJECT', 'The FULL_OBJECT checksum type cannot be used with the sha1'],
      ['CRC64NVME', 'COMPOSITE', 'The COMPOSITE checksum type cannot be used with the crc64nvme'],
      [undefined, 'FULL_OBJECT', 'can only be used with the x-amz-checksum-algorithm header'],
    ]
    for (const [ChecksumAlgorithm, ChecksumType, message] of cases) {
      const err = await s3Error(
        s3().send(
          new CreateMultipartUploadCommand({
            Bucket,
            Key: 'nope',
            ChecksumAlgorithm,
            ChecksumType,
          }),
        ),
      )
      expect(err.name).toBe('InvalidRequest')
      expect(err.message).toContain(message)
    }
    // Defaults: CRC64NVME is FULL_OBJECT, the others COMPOSITE.
    for (const [algorithm, type] of [
      ['CRC64NVME', 'FULL_OBJECT'],
      ['CRC32', 'COMPOSITE'],
      ['SHA1', 'COMPOSITE'],
    ] as const) {
      const created = await s3().send(
        new CreateMultipartUploadCommand({ Bucket, Key: 'defaults', ChecksumAlgorithm: algorithm }),
      )
      expect(created.ChecksumType).toBe(type)
      const listed = await s3().send(
        new ListPartsCommand({ Bucket, Key: 'defaults', UploadId: created.UploadId }),
      )
      expect(listed.ChecksumType).toBe(type)
      const uploads = await s3().send(
        new ListMultipartUploadsCommand({ Bucket, Prefix: 'defaults' }),
      )
      const mine = uploads.Uploads?.find((u) => u.UploadId === created.UploadId)
      expect(mine?.ChecksumAlgorithm).toBe(algorithm)
      expect(mine?.ChecksumType).toBe(type)
    }
  })

  it('refuses wrong, missing and foreign part checksums with the errors S3 answers', async () => {
    const Key = 'wrong-parts'
    const parts = [randomBytes(5 * MiB), randomBytes(10)]
    const { UploadId, completed } = await uploadParts(Key, parts, { algorithm: 'CRC32' })
    const complete = (Parts: CompletedPart[], extra: Record<string, unknown> = {}) =>
      s3Error(
        s3().send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts },
            ...extra,
          }),
        ),
      )
    const [first, second] = completed as [CompletedPart, CompletedPart]
    const wrong = await complete([
      first,
      { ...second, ChecksumCRC32: b64('CRC32', parts[0] as Buffer) },
    ])
    expect(wrong.name).toBe('InvalidPart')
    const { ChecksumCRC32: _, ...bare } = second
    const missing = await complete([first, bare])
    expect(missing.name).toBe('InvalidRequest')
    expect(missing.message).toBe(
      'The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 2 in the request.',
    )
    const foreign = await complete([first, { ...bare, ChecksumCRC32C: 'AAAAAA==' }])
    expect(foreign.name).toBe('BadDigest')
    const mode = await complete(completed, { ChecksumType: 'FULL_OBJECT' })
    expect(mode.name).toBe('InvalidRequest')
    expect(mode.message).toContain('The upload was created using the COMPOSITE checksum mode')
    const size = await complete(completed, { MpuObjectSize: 3 })
    expect(size.name).toBe('InvalidRequest')
    // A part checksummed in another algorithm than the upload's is refused at UploadPart.
    const other = await s3Error(
      s3().send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: 3,
          Body: Buffer.from('x'),
          ChecksumAlgorithm: 'SHA256',
        }),
      ),
    )
    expect(other.name).toBe('InvalidRequest')
    expect(other.message).toContain('expected checksum Type: crc32, actual checksum Type: sha256')
    // Nothing was lost: the right list still completes.
    const done = await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: completed },
      }),
    )
    expect(done.ChecksumCRC32).toMatch(/-2$/)
  })

  it('GetObjectAttributes lists the parts with their sizes and checksums, page by page', async () => {
    const Key = 'attributes'
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(77)]
    const { UploadId, completed } = await uploadParts(Key, parts, { algorithm: 'CRC32C' })
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: completed },
      }),
    )
    const first = await s3().send(
      new GetObjectAttributesCommand({
        Bucket,
        Key,
        ObjectAttributes: ['ObjectParts', 'Checksum'],
        MaxParts: 2,
      }),
    )
    expect(first.Checksum?.ChecksumType).toBe('COMPOSITE')
    expect(first.ObjectParts?.TotalPartsCount).toBe(3)
    expect(first.ObjectParts?.MaxParts).toBe(2)
    expect(first.ObjectParts?.IsTruncated).toBe(true)
    expect(first.ObjectParts?.NextPartNumberMarker).toBe('2')
    expect(first.ObjectParts?.Parts).toEqual([
      { PartNumber: 1, Size: 5 * MiB, ChecksumCRC32C: b64('CRC32C', parts[0] as Buffer) },
      { PartNumber: 2, Size: 5 * MiB, ChecksumCRC32C: b64('CRC32C', parts[1] as Buffer) },
    ])
    const rest = await s3().send(
      new GetObjectAttributesCommand({
        Bucket,
        Key,
        ObjectAttributes: ['ObjectParts'],
        MaxParts: 2,
        PartNumberMarker: first.ObjectParts?.NextPartNumberMarker as string,
      }),
    )
    expect(rest.ObjectParts?.IsTruncated).toBe(false)
    expect(rest.ObjectParts?.PartNumberMarker).toBe('2')
    expect(rest.ObjectParts?.Parts).toEqual([
      { PartNumber: 3, Size: 77, ChecksumCRC32C: b64('CRC32C', parts[2] as Buffer) },
    ])
  })

  it('lib-storage end to end: its default CRC32 (COMPOSITE) and a CRC64NVME upload (FULL_OBJECT)', async () => {
    const body = randomBytes(12 * MiB)
    await new Upload({
      client: s3(),
      params: { Bucket, Key: 'lib-default', Body: body },
      partSize: 5 * MiB,
    }).done()
    const head = await s3().send(
      new HeadObjectCommand({ Bucket, Key: 'lib-default', ChecksumMode: 'ENABLED' }),
    )
    expect(head.ChecksumType).toBe('COMPOSITE')
    expect(head.ChecksumCRC32).toMatch(/-3$/)
    await new Upload({
      client: s3(),
      params: { Bucket, Key: 'lib-nvme', Body: body, ChecksumAlgorithm: 'CRC64NVME' },
      partSize: 5 * MiB,
    }).done()
    const got = await s3().send(
      new GetObjectCommand({ Bucket, Key: 'lib-nvme', ChecksumMode: 'ENABLED' }),
    )
    expect(got.ChecksumType).toBe('FULL_OBJECT')
    expect(got.ChecksumCRC64NVME).toBe(b64('CRC64NVME', body))
    expect(await bodySha(got.Body)).toBe(sha(body))
  })
})

describe('request payer', () => {
  it('accepts x-amz-request-payer: requester on object and bucket operations; the owner pays', async () => {
    const RequestPayer = 'requester' as const
    const put = await s3().send(
      new PutObjectCommand({ Bucket, Key: 'paid', Body: 'who pays?', RequestPayer }),
    )
    expect(put.RequestCharged).toBeUndefined()
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'paid', RequestPayer }))
    expect(await got.Body?.transformToString()).toBe('who pays?')
    expect(got.RequestCharged).toBeUndefined()
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'paid', RequestPayer }))
    expect(head.ContentLength).toBe(9)
    const listed = await s3().send(
      new ListObjectsV2Command({ Bucket, Prefix: 'paid', RequestPayer }),
    )
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['paid'])
    const { UploadId, completed } = await uploadParts('paid-multipart', [Buffer.from('x')], {
      algorithm: 'CRC32',
    })
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'paid-multipart',
        UploadId,
        MultipartUpload: { Parts: completed },
        RequestPayer,
      }),
    )
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'paid', RequestPayer }))
    // Never x-amz-request-charged: nobody but the owner is charged.
    const raw = await rawRequest(server.endpoint('us-east-1'), `/${Bucket}/paid-multipart`, {
      headers: { 'x-amz-request-payer': 'requester' },
    })
    expect(raw.status).toBe(200)
    expect(raw.headers['x-amz-request-charged']).toBeUndefined()
  })

  it('GetBucketRequestPayment answers BucketOwner; PutBucketRequestPayment with Requester is NotImplemented', async () => {
    const got = await s3().send(new GetBucketRequestPaymentCommand({ Bucket }))
    expect(got.Payer).toBe('BucketOwner')
    await s3().send(
      new PutBucketRequestPaymentCommand({
        Bucket,
        RequestPaymentConfiguration: { Payer: 'BucketOwner' },
      }),
    )
    const refused = await s3Error(
      s3().send(
        new PutBucketRequestPaymentCommand({
          Bucket,
          RequestPaymentConfiguration: { Payer: 'Requester' },
        }),
      ),
    )
    expect(refused.name).toBe('NotImplemented')
    expect(refused.$metadata.httpStatusCode).toBe(501)
    expect((await s3().send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer).toBe(
      'BucketOwner',
    )
    // On an object the subresource never reaches PutObject.
    await s3().send(new PutObjectCommand({ Bucket, Key: 'kept', Body: 'kept' }))
    const onObject = await rawRequest(
      server.endpoint('us-east-1'),
      `/${Bucket}/kept?requestPayment`,
      {
        method: 'PUT',
        body: '<RequestPaymentConfiguration><Payer>BucketOwner</Payer></RequestPaymentConfiguration>',
      },
    )
    expect(onObject.status).toBe(501)
    const kept = await s3().send(new GetObjectCommand({ Bucket, Key: 'kept' }))
    expect(await kept.Body?.transformToString()).toBe('kept')
  })
})
