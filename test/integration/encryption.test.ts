// Encryption at rest through the S3 face: nothing readable on disk, ranges across segment and
// part boundaries, tampering caught loudly (500 + log line + ledger event), SSE-C and bucket
// encryption through the AWS SDK, and crypto-shredding on DeleteBucket.
import { createHash, randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDecryptStream, DcKeyProvider, isKeyError } from '../../src/keys/index.js'
import { rawRequest } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

const DC = 'us-west-1'
const Bucket = 'crypt'
const SEGMENT = 262_144
const FULL = SEGMENT + 16

let server: TestSovra
beforeAll(async () => {
  server = await startSovra()
  await s3().send(new CreateBucketCommand({ Bucket }))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, DC)
const dcDir = () => join(server.dataDir, 'dcs', DC)
const ep = () => server.endpoint(DC)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** ASCII bytes that are easy to find on disk: `marker` repeated to `size` bytes. */
function pattern(marker: string, size: number): Buffer {
  return Buffer.from(marker.repeat(Math.ceil(size / marker.length)).slice(0, size), 'ascii')
}

function flip(bytes: Buffer, at: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ mask, at)
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
}

/** Runs `fn` on the cell's metadata database (a second connection; WAL lets both work). */
function withDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(join(dcDir(), 'meta.sqlite'))
  try {
    db.pragma('busy_timeout = 5000')
    return fn(db)
  } finally {
    db.close()
  }
}

interface StoredPiece {
  ref: string
  size: number
  wrappedKey?: string
  partNumber?: number
}

function piecesOf(bucket: string, key: string): StoredPiece[] {
  const row = withDb(
    (db) =>
      db.prepare('SELECT blob_parts FROM objects WHERE bucket = ? AND key = ?').get(bucket, key) as
        | { blob_parts: string | null }
        | undefined,
  )
  if (row?.blob_parts == null) throw new Error(`"${bucket}/${key}" has no blob parts`)
  return JSON.parse(row.blob_parts) as StoredPiece[]
}

function blobPath(ref: string): string {
  return join(dcDir(), 'blobs', 'objects', ref.slice(0, 2), ref.slice(2, 4), ref)
}

async function put(key: string, body: Buffer, bucket = Bucket): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
}

/** True once the cell's ledger holds an integrity-failure event (scanning its files). */
function ledgerIntegrityEvents(): number {
  let count = 0
  for (const file of filesUnder(join(dcDir(), 'ledger'))) {
    const text = readFileSync(file).toString('latin1')
    count += text.split('"type":"object.integrity-failure"').length - 1
  }
  return count
}

/** GET whose outcome is either a response or a broken connection. */
async function getRaw(
  key: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string } | 'broken'> {
  try {
    const res = await rawRequest(ep(), `/${Bucket}/${encodeURIComponent(key)}`, { headers })
    return { status: res.status, body: res.body }
  } catch {
    return 'broken'
  }
}

describe('bytes at rest', () => {
  it('are never plaintext: inline, blob and multipart objects, in blob files and meta.sqlite', async () => {
    const marker = 'SOVRA-PLAINTEXT-MARKER-7f3a9c-'
    const small = pattern(marker, 1000)
    const large = pattern(marker, 300_000)
    const put1 = await s3().send(new PutObjectCommand({ Bucket, Key: 'p/small', Body: small }))
    expect(put1.ServerSideEncryption).toBe('AES256')
    await put('p/large', large)
    const part = pattern(marker, 5 * 1024 * 1024)
    const mpu = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key: 'p/multi' }))
    expect(mpu.ServerSideEncryption).toBe('AES256')
    const p1 = await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: 'p/multi',
        UploadId: mpu.UploadId,
        PartNumber: 1,
        Body: part,
      }),
    )
    expect(p1.ServerSideEncryption).toBe('AES256')
    const p2 = await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: 'p/multi',
        UploadId: mpu.UploadId,
        PartNumber: 2,
        Body: small,
      }),
    )
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'p/multi',
        UploadId: mpu.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    )
    // The bytes come back…
    for (const [key, body] of [
      ['p/small', small],
      ['p/large', large],
      ['p/multi', Buffer.concat([part, small])],
    ] as const) {
      const got = await s3().send(new GetObjectCommand({ Bucket, Key: key }))
      expect(got.ServerSideEncryption).toBe('AES256')
      expect(sha((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(body))
    }
    // …but no file of the data center holds them in clear.
    const needle = Buffer.from(marker.slice(0, 24), 'ascii')
    const files = filesUnder(dcDir())
    expect(files.some((f) => f.endsWith('meta.sqlite'))).toBe(true)
    expect(files.filter((f) => f.includes(`${join('blobs', 'objects')}`)).length).toBeGreaterThan(2)
    const leaking = files.filter((f) => readFileSync(f).includes(needle))
    expect(leaking).toEqual([])
    // Each multipart part is its own envelope, bound to its part number, with its own key.
    const pieces = piecesOf(Bucket, 'p/multi')
    expect(pieces.map((p) => p.partNumber)).toEqual([1, 2])
    expect(new Set(pieces.map((p) => p.wrappedKey)).size).toBe(2)
    expect(pieces.every((p) => p.wrappedKey?.startsWith('dc:v1:'))).toBe(true)
    expect(statSync(blobPath(pieces[1]?.ref as string)).size).toBe(16 + 1000 + 16)
  })
})

describe('objects written before encryption at rest', () => {
  it('stay readable: a plaintext blob and plaintext inline bytes without wrapped keys', async () => {
    const big = pattern('legacy-blob-', 100_000)
    const small = pattern('legacy-inline-', 500)
    const ref = 'cd'.repeat(16)
    mkdirSync(join(dcDir(), 'blobs', 'objects', 'cd', 'cd'), { recursive: true })
    writeFileSync(blobPath(ref), big)
    withDb((db) => {
      const insert = db.prepare(
        `INSERT INTO objects (bucket, key, version_id, size, etag, last_modified, checksums,
           checksum_type, headers, user_metadata, parts_count, part_sizes, blob_parts, encryption)
         VALUES (?, ?, NULL, ?, 'e', 0, '{}', NULL, '{}', '{}', NULL, NULL, ?, NULL)`,
      )
      insert.run(Bucket, 'legacy/big', big.length, JSON.stringify([{ ref, size: big.length }]))
      insert.run(Bucket, 'legacy/small', small.length, null)
      db.prepare('INSERT INTO object_data (bucket, key, bytes) VALUES (?, ?, ?)').run(
        Bucket,
        'legacy/small',
        small,
      )
    })
    for (const [key, body] of [
      ['legacy/big', big],
      ['legacy/small', small],
    ] as const) {
      const got = await s3().send(new GetObjectCommand({ Bucket, Key: key }))
      expect(got.ServerSideEncryption).toBeUndefined()
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array())
      expect(bytes.equals(body)).toBe(true)
    }
    const ranged = await getRaw('legacy/big', { range: 'bytes=70000-70011' })
    expect(ranged).toEqual({ status: 206, body: big.subarray(70_000, 70_012).toString('ascii') })
  })
})

describe('range GET', () => {
  const size = 3 * SEGMENT + 100
  const body = randomBytes(size)
  beforeAll(async () => {
    await put('r/segments', body)
  })

  it.each([
    [0, 0],
    [SEGMENT - 1, SEGMENT],
    [SEGMENT - 6, 2 * SEGMENT + 5],
    [2 * SEGMENT, 2 * SEGMENT],
    [3 * SEGMENT, size - 1],
    [10, size - 1],
    [size - 1, size - 1],
  ])('returns bytes %i-%i across segment boundaries', async (start, end) => {
    const got = await s3().send(
      new GetObjectCommand({ Bucket, Key: 'r/segments', Range: `bytes=${start}-${end}` }),
    )
    expect(got.ContentRange).toBe(`bytes ${start}-${end}/${size}`)
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array())
    expect(bytes.equals(body.subarray(start, end + 1))).toBe(true)
  })

  it('returns a suffix range and ranges across multipart part boundaries', async () => {
    const suffix = await s3().send(
      new GetObjectCommand({ Bucket, Key: 'r/segments', Range: 'bytes=-70000' }),
    )
    const tail = Buffer.from((await suffix.Body?.transformToByteArray()) ?? new Uint8Array())
    expect(tail.equals(body.subarray(size - 70_000))).toBe(true)

    const partSize = 5 * 1024 * 1024
    const a = randomBytes(partSize)
    const b = randomBytes(200_000)
    const mpu = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key: 'r/multi' }))
    const etags: string[] = []
    for (const [i, chunk] of [a, b].entries()) {
      const res = await s3().send(
        new UploadPartCommand({
          Bucket,
          Key: 'r/multi',
          UploadId: mpu.UploadId,
          PartNumber: i + 1,
          Body: chunk,
        }),
      )
      etags.push(res.ETag as string)
    }
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'r/multi',
        UploadId: mpu.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    )
    const whole = Buffer.concat([a, b])
    for (const [start, end] of [
      [partSize - 10, partSize + 10],
      [partSize - SEGMENT - 3, partSize + SEGMENT + 3],
      [partSize, partSize + 199_999],
    ] as const) {
      const got = await s3().send(
        new GetObjectCommand({ Bucket, Key: 'r/multi', Range: `bytes=${start}-${end}` }),
      )
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array())
      expect(bytes.equals(whole.subarray(start, end + 1))).toBe(true)
    }
    const second = await s3().send(new GetObjectCommand({ Bucket, Key: 'r/multi', PartNumber: 2 }))
    const bytes = Buffer.from((await second.Body?.transformToByteArray()) ?? new Uint8Array())
    expect(bytes.equals(b)).toBe(true)
  })
})

describe('tampering', () => {
  /** Waits for one more integrity-failure event in the ledger and a log line naming `key`. */
  async function expectReported(before: number, key: string, fields: Record<string, unknown>) {
    await expect.poll(ledgerIntegrityEvents, { timeout: 5_000 }).toBeGreaterThan(before)
    const line = server.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find(
        (l) =>
          l.key === key &&
          l.msg === 'Stored object failed its integrity check; nothing of it was served',
      )
    expect(line).toMatchObject({ level: 50, dc: DC, bucket: Bucket, key, ...fields })
  }

  it('a flipped bit in a blob: 500 InternalError, an error log line and a ledger event', async () => {
    const body = pattern('flip-', 3 * SEGMENT)
    await put('t/flip', body)
    const [piece] = piecesOf(Bucket, 't/flip')
    const path = blobPath(piece?.ref as string)
    const bytes = readFileSync(path)
    flip(bytes, 16 + 100, 0x01) // segment 0
    writeFileSync(path, bytes)
    const before = ledgerIntegrityEvents()
    const res = await getRaw('t/flip')
    expect(res).not.toBe('broken')
    expect(res).toMatchObject({ status: 500 })
    expect((res as { body: string }).body).toContain('<Code>InternalError</Code>')
    expect((res as { body: string }).body).not.toContain('flip-flip')
    await expectReported(before, 't/flip', { segment: '0', failure: 'IntegrityFailure' })
  })

  it('a flipped bit in a later segment: a range GET of it is a 500, a whole GET is cut short', async () => {
    const body = pattern('late-', 3 * SEGMENT)
    await put('t/late', body)
    const [piece] = piecesOf(Bucket, 't/late')
    const path = blobPath(piece?.ref as string)
    const bytes = readFileSync(path)
    flip(bytes, 16 + 2 * FULL + 7, 0x80) // segment 2
    writeFileSync(path, bytes)
    const before = ledgerIntegrityEvents()
    const ranged = await getRaw('t/late', { range: `bytes=${2 * SEGMENT}-${2 * SEGMENT + 10}` })
    expect(ranged).toMatchObject({ status: 500 })
    await expectReported(before, 't/late', { segment: '2' })
    // Segments 0 and 1 were authentic and may have been sent; segment 2 never is.
    const whole = await getRaw('t/late')
    if (whole !== 'broken') expect(whole.body.length).toBeLessThan(body.length)
    // The untouched segments still read fine on their own.
    const ok = await getRaw('t/late', { range: 'bytes=0-99' })
    expect(ok).toEqual({ status: 206, body: body.subarray(0, 100).toString('ascii') })
  })

  it('a truncated blob: the missing tail is a 500, never short bytes', async () => {
    const body = pattern('trunc-', 2 * SEGMENT + 50)
    await put('t/trunc', body)
    const [piece] = piecesOf(Bucket, 't/trunc')
    const path = blobPath(piece?.ref as string)
    truncateSync(path, 16 + 2 * FULL) // the last (partial) segment is gone
    const before = ledgerIntegrityEvents()
    const ranged = await getRaw('t/trunc', { range: `bytes=${2 * SEGMENT}-${2 * SEGMENT + 49}` })
    expect(ranged).toMatchObject({ status: 500 })
    await expectReported(before, 't/trunc', { failure: 'IntegrityFailure' })
    const whole = await getRaw('t/trunc')
    if (whole !== 'broken') expect(whole.body.length).toBeLessThan(body.length)
  })

  it('two swapped segments: 500 InternalError', async () => {
    const body = pattern('swap-', 3 * SEGMENT)
    await put('t/swap', body)
    const [piece] = piecesOf(Bucket, 't/swap')
    const path = blobPath(piece?.ref as string)
    const bytes = readFileSync(path)
    const s0 = Buffer.from(bytes.subarray(16, 16 + FULL))
    const s1 = Buffer.from(bytes.subarray(16 + FULL, 16 + 2 * FULL))
    s1.copy(bytes, 16)
    s0.copy(bytes, 16 + FULL)
    writeFileSync(path, bytes)
    const before = ledgerIntegrityEvents()
    expect(await getRaw('t/swap')).toMatchObject({ status: 500 })
    await expectReported(before, 't/swap', { segment: '0' })
  })

  it('a flipped bit in inline bytes in meta.sqlite: 500 InternalError', async () => {
    await put('t/inline', pattern('inline-', 2000))
    withDb((db) => {
      const row = db
        .prepare('SELECT bytes FROM object_data WHERE bucket = ? AND key = ?')
        .get(Bucket, 't/inline') as { bytes: Buffer }
      flip(row.bytes, 500, 0x04)
      db.prepare('UPDATE object_data SET bytes = ? WHERE bucket = ? AND key = ?').run(
        row.bytes,
        Bucket,
        't/inline',
      )
    })
    const before = ledgerIntegrityEvents()
    expect(await getRaw('t/inline')).toMatchObject({ status: 500 })
    await expectReported(before, 't/inline', { failure: 'IntegrityFailure' })
  })

  it('an empty object is authenticated too: a flipped bit in its envelope is a 500, not an empty 200', async () => {
    await put('t/empty', Buffer.alloc(0))
    expect(await getRaw('t/empty')).toEqual({ status: 200, body: '' })
    withDb((db) => {
      const row = db
        .prepare('SELECT bytes FROM object_data WHERE bucket = ? AND key = ?')
        .get(Bucket, 't/empty') as { bytes: Buffer }
      expect(row.bytes.length).toBe(32) // header + the empty last segment's tag
      flip(row.bytes, 20, 0x01)
      db.prepare('UPDATE object_data SET bytes = ? WHERE bucket = ? AND key = ?').run(
        row.bytes,
        Bucket,
        't/empty',
      )
    })
    const before = ledgerIntegrityEvents()
    expect(await getRaw('t/empty')).toMatchObject({ status: 500 })
    await expectReported(before, 't/empty', { failure: 'IntegrityFailure' })
  })

  it('a tampered copy source: the copy fails with 500 and is reported, nothing is written', async () => {
    const body = pattern('copysrc-', 2 * SEGMENT)
    await put('t/copy-src', body)
    const [piece] = piecesOf(Bucket, 't/copy-src')
    const path = blobPath(piece?.ref as string)
    const bytes = readFileSync(path)
    flip(bytes, 16 + 3, 0x10)
    writeFileSync(path, bytes)
    const before = ledgerIntegrityEvents()
    const err = await s3Error(
      s3().send(
        new CopyObjectCommand({ Bucket, Key: 't/copy-dst', CopySource: `${Bucket}/t/copy-src` }),
      ),
    )
    expect([err.$metadata.httpStatusCode, err.name]).toEqual([500, 'InternalError'])
    await expectReported(before, 't/copy-src', { segment: '0' })
    const missing = await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 't/copy-dst' })))
    expect(missing.$metadata.httpStatusCode).toBe(404)
  })

  it('a blob and its row copied under another bucket: refused, the key is bound to its bucket', async () => {
    const other = 'crypt-other'
    await s3().send(new CreateBucketCommand({ Bucket: other }))
    await put('own', pattern('own-', 100_000), other) // the other bucket has its own key
    await put('t/victim', pattern('victim-', 100_000))
    withDb((db) => {
      db.prepare(
        `INSERT INTO objects (bucket, key, version_id, size, etag, last_modified, checksums,
           checksum_type, headers, user_metadata, parts_count, part_sizes, blob_parts, encryption)
         SELECT ?, 'stolen', version_id, size, etag, last_modified, checksums, checksum_type,
           headers, user_metadata, parts_count, part_sizes, blob_parts, encryption
         FROM objects WHERE bucket = ? AND key = 't/victim'`,
      ).run(other, Bucket)
    })
    const before = ledgerIntegrityEvents()
    const res = await rawRequest(ep(), `/${other}/stolen`)
    expect(res.status).toBe(500)
    expect(res.body).not.toContain('victim-')
    await expect.poll(ledgerIntegrityEvents, { timeout: 5_000 }).toBeGreaterThan(before)
    expect(
      server.logs.some((l) => l.includes('"key":"stolen"') && l.includes('InvalidWrappedKey')),
    ).toBe(true)
  })
})

describe('SSE-C', () => {
  const key = randomBytes(32)
  const other = randomBytes(32)
  // The SDK takes the base64 key, computes its MD5 and sends the three headers.
  const withKey = (k: Buffer) => ({
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: k.toString('base64'),
  })

  it('writes with the customer key and reads only with the same key', async () => {
    const body = randomBytes(150_000)
    const put1 = await s3().send(
      new PutObjectCommand({ Bucket, Key: 'c/obj', Body: body, ...withKey(key) }),
    )
    expect(put1.SSECustomerAlgorithm).toBe('AES256')
    expect(put1.SSECustomerKeyMD5).toBe(createHash('md5').update(key).digest('base64'))
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'c/obj', ...withKey(key) }))
    expect(got.SSECustomerAlgorithm).toBe('AES256')
    expect(sha((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(body))
    const ranged = await s3().send(
      new GetObjectCommand({ Bucket, Key: 'c/obj', Range: 'bytes=65530-65545', ...withKey(key) }),
    )
    const slice = Buffer.from((await ranged.Body?.transformToByteArray()) ?? new Uint8Array())
    expect(slice.equals(body.subarray(65_530, 65_546))).toBe(true)

    const missing = await s3Error(s3().send(new GetObjectCommand({ Bucket, Key: 'c/obj' })))
    expect([missing.$metadata.httpStatusCode, missing.name]).toEqual([400, 'InvalidRequest'])
    const wrong = await s3Error(
      s3().send(new GetObjectCommand({ Bucket, Key: 'c/obj', ...withKey(other) })),
    )
    expect([wrong.$metadata.httpStatusCode, wrong.name]).toEqual([403, 'AccessDenied'])
    const head = await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key: 'c/obj' })))
    expect(head.$metadata.httpStatusCode).toBe(400)
    const headOk = await s3().send(new HeadObjectCommand({ Bucket, Key: 'c/obj', ...withKey(key) }))
    expect(headOk.ContentLength).toBe(body.length)
    // The key is never stored: only a salted fingerprint.
    const stored = withDb(
      (db) =>
        db
          .prepare('SELECT encryption FROM objects WHERE bucket = ? AND key = ?')
          .get(Bucket, 'c/obj') as {
          encryption: string
        },
    )
    expect(JSON.parse(stored.encryption).customerKeyFingerprint).toMatch(/^sse-c-hmac-v1:/)
    const keyB64 = key.toString('base64')
    for (const file of filesUnder(dcDir())) {
      const bytes = readFileSync(file)
      expect(bytes.includes(key) || bytes.includes(Buffer.from(keyB64))).toBe(false)
    }
    // A key for an object that is not SSE-C, and a bad key MD5.
    await put('c/plain', Buffer.from('plain'))
    const notSseC = await s3Error(
      s3().send(new GetObjectCommand({ Bucket, Key: 'c/plain', ...withKey(key) })),
    )
    expect([notSseC.$metadata.httpStatusCode, notSseC.name]).toEqual([400, 'InvalidRequest'])
    const badMd5 = await rawRequest(ep(), `/${Bucket}/c/obj`, {
      headers: {
        'x-amz-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-server-side-encryption-customer-key': keyB64,
        'x-amz-server-side-encryption-customer-key-md5': createHash('md5')
          .update(other)
          .digest('base64'),
      },
    })
    expect(badMd5.status).toBe(400)
    expect(badMd5.body).toContain('<Code>InvalidArgument</Code>')
    expect(badMd5.body).toContain(
      '<ArgumentName>x-amz-server-side-encryption-customer-key-md5</ArgumentName>',
    )
    expect(badMd5.body).not.toContain(keyB64)
  })

  it('copies with the source key, re-encrypting for the destination', async () => {
    const body = randomBytes(70_000)
    await s3().send(new PutObjectCommand({ Bucket, Key: 'c/src', Body: body, ...withKey(key) }))
    const noKey = await s3Error(
      s3().send(new CopyObjectCommand({ Bucket, Key: 'c/dst', CopySource: `${Bucket}/c/src` })),
    )
    expect([noKey.$metadata.httpStatusCode, noKey.name]).toEqual([400, 'InvalidRequest'])
    const copied = await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'c/dst',
        CopySource: `${Bucket}/c/src`,
        CopySourceSSECustomerAlgorithm: 'AES256',
        CopySourceSSECustomerKey: key.toString('base64'),
        ...withKey(other),
      }),
    )
    expect(copied.SSECustomerAlgorithm).toBe('AES256')
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'c/dst', ...withKey(other) }))
    expect(sha((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(body))
    const old = await s3Error(
      s3().send(new GetObjectCommand({ Bucket, Key: 'c/dst', ...withKey(key) })),
    )
    expect(old.name).toBe('AccessDenied')
    // To a plain (data center key) destination.
    await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'c/plain-copy',
        CopySource: `${Bucket}/c/src`,
        CopySourceSSECustomerAlgorithm: 'AES256',
        CopySourceSSECustomerKey: key.toString('base64'),
      }),
    )
    const plain = await s3().send(new GetObjectCommand({ Bucket, Key: 'c/plain-copy' }))
    expect(plain.ServerSideEncryption).toBe('AES256')
    expect(sha((await plain.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(body))
  })

  it('UploadPartCopy from an SSE-C source into an SSE-C upload', async () => {
    const source = randomBytes(90_000)
    await s3().send(
      new PutObjectCommand({ Bucket, Key: 'c/part-src', Body: source, ...withKey(key) }),
    )
    const mpu = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'c/part-dst', ...withKey(other) }),
    )
    const noSourceKey = await s3Error(
      s3().send(
        new UploadPartCopyCommand({
          Bucket,
          Key: 'c/part-dst',
          UploadId: mpu.UploadId,
          PartNumber: 1,
          CopySource: `${Bucket}/c/part-src`,
          ...withKey(other),
        }),
      ),
    )
    expect(noSourceKey.$metadata.httpStatusCode).toBe(400)
    const copied = await s3().send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'c/part-dst',
        UploadId: mpu.UploadId,
        PartNumber: 1,
        CopySource: `${Bucket}/c/part-src`,
        CopySourceRange: 'bytes=1000-80999',
        CopySourceSSECustomerAlgorithm: 'AES256',
        CopySourceSSECustomerKey: key.toString('base64'),
        ...withKey(other),
      }),
    )
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'c/part-dst',
        UploadId: mpu.UploadId,
        MultipartUpload: {
          Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult?.ETag as string }],
        },
      }),
    )
    const got = await s3().send(
      new GetObjectCommand({ Bucket, Key: 'c/part-dst', ...withKey(other) }),
    )
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array())
    expect(bytes.equals(source.subarray(1000, 81_000))).toBe(true)
  })

  it('multipart: every part needs the upload key', async () => {
    const mpu = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'c/multi', ...withKey(key) }),
    )
    expect(mpu.SSECustomerAlgorithm).toBe('AES256')
    const body = randomBytes(5 * 1024 * 1024)
    const tail = randomBytes(1000)
    const noKey = await s3Error(
      s3().send(
        new UploadPartCommand({
          Bucket,
          Key: 'c/multi',
          UploadId: mpu.UploadId,
          PartNumber: 1,
          Body: tail,
        }),
      ),
    )
    expect(noKey.$metadata.httpStatusCode).toBe(400)
    const wrong = await s3Error(
      s3().send(
        new UploadPartCommand({
          Bucket,
          Key: 'c/multi',
          UploadId: mpu.UploadId,
          PartNumber: 1,
          Body: tail,
          ...withKey(other),
        }),
      ),
    )
    expect(wrong.$metadata.httpStatusCode).toBe(403)
    const parts = []
    for (const [i, chunk] of [body, tail].entries()) {
      const res = await s3().send(
        new UploadPartCommand({
          Bucket,
          Key: 'c/multi',
          UploadId: mpu.UploadId,
          PartNumber: i + 1,
          Body: chunk,
          ...withKey(key),
        }),
      )
      parts.push({ ETag: res.ETag as string, PartNumber: i + 1 })
    }
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'c/multi',
        UploadId: mpu.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    )
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'c/multi', ...withKey(key) }))
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array())
    expect(sha(bytes)).toBe(sha(Buffer.concat([body, tail])))
    expect(piecesOf(Bucket, 'c/multi').every((p) => p.wrappedKey?.startsWith('sse-c:v1:'))).toBe(
      true,
    )
  })
})

describe('bucket encryption', () => {
  it('gets the AES256 default, puts aws:kms, refuses writes naming an unknown key id, and deletes back to the default', async () => {
    const b = 'crypt-config'
    await s3().send(new CreateBucketCommand({ Bucket: b }))
    const initial = await s3().send(new GetBucketEncryptionCommand({ Bucket: b }))
    expect(
      initial.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe('AES256')
    await s3().send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    )
    const kms = await s3().send(new GetBucketEncryptionCommand({ Bucket: b }))
    expect(kms.ServerSideEncryptionConfiguration?.Rules?.[0]).toMatchObject({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' },
      BucketKeyEnabled: true,
    })
    const put1 = await s3().send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }))
    expect(put1.ServerSideEncryption).toBe('aws:kms')
    const head = await s3().send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))
    expect(head.ServerSideEncryption).toBe('aws:kms')
    // As AWS, PutBucketEncryption does not look the key id up; a write naming a key that is not
    // a registered key of the tenant is refused (test/integration/kms-keys.test.ts has the rest).
    await s3().send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: 'arn:aws:kms:us-west-1:1:key/abc',
              },
            },
          ],
        },
      }),
    )
    const named = await s3Error(
      s3().send(new PutObjectCommand({ Bucket: b, Key: 'k4', Body: 'x' })),
    )
    expect([named.$metadata.httpStatusCode, named.name]).toEqual([400, 'KMS.NotFoundException'])
    const bad = await s3Error(
      s3().send(
        new PutObjectCommand({
          Bucket: b,
          Key: 'k2',
          Body: 'x',
          ServerSideEncryption: 'AES128' as 'AES256',
        }),
      ),
    )
    expect(bad.name).toBe('InvalidArgument')
    await s3().send(new DeleteBucketEncryptionCommand({ Bucket: b }))
    const after = await s3().send(new GetBucketEncryptionCommand({ Bucket: b }))
    expect(
      after.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe('AES256')
    const put2 = await s3().send(new PutObjectCommand({ Bucket: b, Key: 'k3', Body: 'x' }))
    expect(put2.ServerSideEncryption).toBe('AES256')
  })
})

describe('crypto-shredding', () => {
  it('DeleteBucket destroys the bucket key: a copy of its blobs can no longer be decrypted', async () => {
    const b = 'crypt-shred'
    await s3().send(new CreateBucketCommand({ Bucket: b }))
    const body = pattern('shred-', 100_000)
    await put('doomed', body, b)
    const [piece] = piecesOf(b, 'doomed')
    const wrapped = piece?.wrappedKey as string
    const copy = readFileSync(blobPath(piece?.ref as string))
    const keyFile = join(dcDir(), 'keys', 'buckets', `${Buffer.from(b).toString('hex')}.json`)
    expect(existsSync(keyFile)).toBe(true)
    const decrypt = async (provider: DcKeyProvider): Promise<Buffer> => {
      const dek = await provider.unwrap(wrapped, { dc: DC, bucket: b })
      const stream = createDecryptStream({
        dek,
        binding: { dc: DC, bucket: b, key: 'doomed', versionId: 'null' },
      })
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.end(copy)
      await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject))
      return Buffer.concat(chunks)
    }
    // Before: the copy opens with the data center's keys (an operator with the folder can read).
    expect((await decrypt(await DcKeyProvider.open({ dc: DC, dcDir: dcDir() }))).equals(body)).toBe(
      true,
    )
    await s3().send(new DeleteObjectCommand({ Bucket: b, Key: 'doomed' }))
    await s3().send(new DeleteBucketCommand({ Bucket: b }))
    expect(existsSync(keyFile)).toBe(false)
    // After: the master key is still there, but the bucket's key is gone for good.
    const err = await decrypt(await DcKeyProvider.open({ dc: DC, dcDir: dcDir() })).catch(
      (e: unknown) => e,
    )
    expect(isKeyError(err, 'KeyNotFound')).toBe(true)
    // A new bucket of the same name gets a new key, which does not open the old data key either.
    await s3().send(new CreateBucketCommand({ Bucket: b }))
    await put('fresh', Buffer.from('new'), b)
    const again = await decrypt(await DcKeyProvider.open({ dc: DC, dcDir: dcDir() })).catch(
      (e: unknown) => e,
    )
    expect(isKeyError(again, 'InvalidWrappedKey')).toBe(true)
  })
})
