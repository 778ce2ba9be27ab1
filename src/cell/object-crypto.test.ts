import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { type BlobStore, openBlobStore } from '../blob/index.js'
import { createLogger } from '../core/index.js'
import {
  ENVELOPE_SEGMENT_SIZE,
  isKeyError,
  nativeGcmBuilt,
  type SseCKey,
  useNativeGcm,
} from '../keys/index.js'
import type { BlobPart, ObjectRecord } from '../meta/index.js'
import { openCellKeys } from './cell-keys.js'
import {
  type CryptoCell,
  decryptingRead,
  digestingRead,
  encryptingWrite,
  type SealedData,
} from './object-crypto.js'

const CIPHERS = nativeGcmBuilt() ? ['native', 'node:crypto'] : ['node:crypto']

let dir: string
let blob: BlobStore
let cell: CryptoCell

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sovra-crypt-'))
  blob = await openBlobStore({ driver: 'fs', root: join(dir, 'blobs') })
  const keys = await openCellKeys('dc-1', dir, { logger: createLogger('silent') })
  cell = { dc: { id: 'dc-1' }, blob, keys }
})
afterEach(async () => {
  await blob.close()
  await rm(dir, { recursive: true, force: true })
})

const customerKey: SseCKey = { algorithm: 'AES256', key: randomBytes(32), keyMd5: 'unused' }

async function seal(
  body: Buffer,
  options: { key: string; bucket?: string; partNumber?: number; inline?: boolean; sseC?: boolean },
): Promise<SealedData> {
  const bucket = options.bucket ?? 'b'
  return encryptingWrite(cell, Readable.from([body.subarray(0, 1000), body.subarray(1000)]), {
    identity: {
      bucket,
      key: options.key,
      versionId: null,
      ...(options.partNumber === undefined ? {} : { partNumber: options.partNumber }),
    },
    provider: await cell.keys.wrapperFor({
      bucket,
      kmsKeyArn: null,
      customerKey: options.sseC === true ? customerKey : null,
    }),
    inline: options.inline ?? false,
  })
}

async function piece(sealed: SealedData, size: number, partNumber?: number): Promise<BlobPart> {
  if (sealed.kind !== 'pending') throw new Error('expected a pending blob')
  await sealed.pending.commit()
  return {
    ref: sealed.pending.ref,
    size,
    wrappedKey: sealed.wrappedKey,
    ...(partNumber === undefined ? {} : { partNumber }),
  }
}

function record(key: string, parts: readonly BlobPart[], bucket = 'b'): ObjectRecord {
  return {
    bucket,
    key,
    versionId: null,
    size: parts.reduce((a, p) => a + p.size, 0),
    etag: 'e',
    lastModified: 0,
    headers: {},
    userMetadata: {},
    checksums: {},
    checksumType: null,
    partsCount: null,
    partSizes: null,
    encryption: { algorithm: 'AES256', kmsKeyId: null, customerKeyFingerprint: null },
    data: { kind: 'blobs', parts },
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const read = async (r: ObjectRecord, range: { start: number; end: number } | null = null) =>
  readAll(await decryptingRead(cell, r, { range, customerKey: null }))

describe('encryptingWrite / decryptingRead', () => {
  it('seals inline bytes into an envelope and opens them again, ranges included', async () => {
    const body = randomBytes(3000)
    const sealed = await seal(body, { key: 'k', inline: true })
    if (sealed.kind !== 'inline') throw new Error('expected inline')
    expect(sealed.bytes.subarray(0, 4).toString('ascii')).toBe('SVRE')
    expect(sealed.bytes.length).toBe(16 + 3000 + 16)
    expect(sealed.bytes.includes(body.subarray(0, 32))).toBe(false)
    const r: ObjectRecord = {
      ...record('k', []),
      size: 3000,
      data: { kind: 'inline', bytes: sealed.bytes, wrappedKey: sealed.wrappedKey },
    }
    expect((await read(r)).equals(body)).toBe(true)
    expect((await read(r, { start: 10, end: 19 })).equals(body.subarray(10, 20))).toBe(true)
  })

  it('draws a fresh data key per write: 300 writes of the same bytes share no key, wrapped key or ciphertext', async () => {
    const body = Buffer.alloc(4096, 1)
    const provider = await cell.keys.wrapperFor({ bucket: 'b', kmsKeyArn: null, customerKey: null })
    const deks = new Set<string>()
    const wrapped = new Set<string>()
    const ciphertexts = new Set<string>()
    for (let i = 0; i < 300; i++) {
      const sealed = await seal(body, { key: 'same', inline: true })
      if (sealed.kind !== 'inline') throw new Error('expected inline')
      wrapped.add(sealed.wrappedKey)
      ciphertexts.add(sealed.bytes.subarray(16).toString('hex'))
      const dek = await provider.unwrap(sealed.wrappedKey, { dc: 'dc-1', bucket: 'b' })
      expect(dek.length).toBe(32)
      deks.add(dek.toString('hex'))
    }
    expect([deks.size, wrapped.size, ciphertexts.size]).toEqual([300, 300, 300])
  })

  it('reads ranges of a multipart object across segment and part boundaries', async () => {
    const a = randomBytes(200_000)
    const b = randomBytes(70_000)
    const parts = [
      await piece(await seal(a, { key: 'm', partNumber: 1 }), a.length, 1),
      await piece(await seal(b, { key: 'm', partNumber: 2 }), b.length, 2),
    ]
    const whole = Buffer.concat([a, b])
    const r = record('m', parts)
    expect((await read(r)).equals(whole)).toBe(true)
    for (const [start, end] of [
      [65_530, 65_545],
      [199_990, 200_010],
      [200_000, 269_999],
      [0, 0],
    ] as const) {
      expect((await read(r, { start, end })).equals(whole.subarray(start, end + 1))).toBe(true)
    }
  })

  // The addon decrypts in place on the event loop; without it (node:crypto) large reads are opened
  // on an envelope worker when there is a second core.
  it.each(CIPHERS)(
    'opens large objects and ranges with %s AES-GCM and fails a flipped bit',
    async (cipher) => {
      useNativeGcm(cipher === 'native')
      onTestFinished(() => useNativeGcm(true))
      const body = randomBytes(3 * 1024 * 1024 + 333)
      const part = await piece(await seal(body, { key: 'big' }), body.length)
      const r = record('big', [part])
      expect((await read(r)).equals(body)).toBe(true)
      const range = { start: 100_000, end: 900_000 } // 800 KiB: large enough for the worker
      expect((await read(r, range)).equals(body.subarray(range.start, range.end + 1))).toBe(true)

      const tampered = await withFlippedBitInSegment9('big', part)
      const chunks: Buffer[] = []
      const err = await (async () => {
        for await (const chunk of await decryptingRead(cell, tampered, {
          range: null,
          customerKey: null,
        }))
          chunks.push(chunk as Buffer)
      })().catch((e: unknown) => e)
      expect(isKeyError(err, 'IntegrityFailure')).toBe(true)
      expect((err as { details: Record<string, string> }).details).toMatchObject({
        dc: 'dc-1',
        bucket: 'b',
        key: 'big',
        segment: '9',
      })
      // What was served before the failure is exactly the object's first bytes, never past segment 9.
      const served = Buffer.concat(chunks)
      expect(served.length).toBeLessThanOrEqual(9 * ENVELOPE_SEGMENT_SIZE)
      expect(served.equals(body.subarray(0, served.length))).toBe(true)
    },
  )

  it('refuses parts whose part numbers were swapped: each envelope is bound to its own', async () => {
    const a = randomBytes(1000)
    const b = randomBytes(1000)
    const p1 = await piece(await seal(a, { key: 'm', partNumber: 1 }), 1000, 1)
    const p2 = await piece(await seal(b, { key: 'm', partNumber: 2 }), 1000, 2)
    const swapped = record('m', [
      { ...p2, partNumber: 1 },
      { ...p1, partNumber: 2 },
    ])
    const err = await read(swapped).catch((e: unknown) => e)
    expect(isKeyError(err, 'IntegrityFailure')).toBe(true)
    expect((err as { details: Record<string, string> }).details).toMatchObject({
      dc: 'dc-1',
      bucket: 'b',
      key: 'm',
      part: '1',
      segment: '0',
    })
  })

  it('refuses a data key wrapped for another bucket before any byte is read', async () => {
    const body = randomBytes(100_000)
    const p = await piece(await seal(body, { key: 'k' }), body.length)
    await seal(randomBytes(10), { key: 'other', bucket: 'b2' }) // b2 has a key of its own
    const err = await decryptingRead(cell, record('k', [p], 'b2'), {
      range: null,
      customerKey: null,
    }).catch((e: unknown) => e)
    expect(isKeyError(err, 'InvalidWrappedKey')).toBe(true)
    expect((err as { details: Record<string, string> }).details).toMatchObject({ bucket: 'b2' })
  })

  it('treats a row moved to a bucket without a key as a foreign wrapped key', async () => {
    const body = randomBytes(2000)
    const p = await piece(await seal(body, { key: 'k' }), body.length)
    const err = await decryptingRead(cell, record('k', [p], 'never-written'), {
      range: null,
      customerKey: null,
    }).catch((e: unknown) => e)
    expect(isKeyError(err, 'InvalidWrappedKey')).toBe(true)
  })

  it('serves a legacy piece without a wrapped key as stored', async () => {
    const body = Buffer.from('written before encryption at rest')
    const pending = await blob.write(Readable.from([body]))
    await pending.commit()
    const r = { ...record('old', [{ ref: pending.ref, size: body.length }]), encryption: null }
    expect((await read(r)).toString()).toBe(body.toString())
  })

  it('an SSE-C envelope opens only with the customer key', async () => {
    const body = randomBytes(5000)
    const p = await piece(await seal(body, { key: 'c', sseC: true }), body.length)
    expect(p.wrappedKey?.startsWith('sse-c:v1:')).toBe(true)
    const missing = await read(record('c', [p])).catch((e: unknown) => e)
    expect(isKeyError(missing, 'SseCKeyMissing')).toBe(true)
    const other = { ...customerKey, key: randomBytes(32) }
    const wrong = await decryptingRead(cell, record('c', [p]), {
      range: null,
      customerKey: other,
    }).catch((e: unknown) => e)
    expect(isKeyError(wrong, 'InvalidWrappedKey')).toBe(true)
    const ok = await readAll(
      await decryptingRead(cell, record('c', [p]), { range: null, customerKey }),
    )
    expect(ok.equals(body)).toBe(true)
  })

  it('authenticates an empty object too: a tampered, swapped or foreign empty envelope fails', async () => {
    const sealed = await seal(Buffer.alloc(0), { key: 'e', inline: true })
    if (sealed.kind !== 'inline') throw new Error('expected inline')
    // Header and one empty last segment (its tag): 32 bytes that still must authenticate.
    expect(sealed.bytes.length).toBe(16 + 16)
    const empty = (bytes: Buffer, wrappedKey = sealed.wrappedKey, key = 'e'): ObjectRecord => ({
      ...record(key, []),
      size: 0,
      data: { kind: 'inline', bytes, wrappedKey },
    })
    expect((await read(empty(sealed.bytes))).length).toBe(0)
    const flipped = Buffer.from(sealed.bytes)
    flipped.writeUInt8(flipped.readUInt8(20) ^ 1, 20)
    expect(
      isKeyError(await read(empty(flipped)).catch((e: unknown) => e), 'IntegrityFailure'),
    ).toBe(true)
    // The same envelope under another key (a row copied over another object) fails too.
    const moved = await read(empty(sealed.bytes, sealed.wrappedKey, 'other')).catch(
      (e: unknown) => e,
    )
    expect(isKeyError(moved, 'IntegrityFailure')).toBe(true)
    const truncated = await read(empty(sealed.bytes.subarray(0, 16))).catch((e: unknown) => e)
    expect(isKeyError(truncated, 'IntegrityFailure')).toBe(true)
    // A tampered wrapped key is caught as well.
    const badKey = `${sealed.wrappedKey.slice(0, -2)}AA`
    expect(isKeyError(await read(empty(sealed.bytes, badKey)).catch((e: unknown) => e))).toBe(true)

    // An empty blob piece (an empty multipart object) is checked the same way.
    const p = await piece(await seal(Buffer.alloc(0), { key: 'm', partNumber: 1 }), 0, 1)
    expect((await read(record('m', [p]))).length).toBe(0)
    const wrongPart = record('m', [{ ...p, partNumber: 2 }])
    expect(isKeyError(await read(wrongPart).catch((e: unknown) => e), 'IntegrityFailure')).toBe(
      true,
    )
  })
})

describe('digestingRead', () => {
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex')
  const digestOf = async (r: ObjectRecord) => {
    const got = await digestingRead(cell, r, { customerKey: null })
    return { size: got.size, digests: got.digests.map((d) => d.toString('hex')) }
  }

  it('gives the size and MD5 of what decryptingRead serves, for every shape of object', async () => {
    for (const size of [0, 1000, 300_000, 5 * 1024 * 1024 + 7]) {
      const body = randomBytes(size)
      const r = record(`k${size}`, [await piece(await seal(body, { key: `k${size}` }), size)])
      expect((await read(r)).equals(body)).toBe(true)
      expect(await digestOf(r)).toEqual({ size, digests: [md5(body)] })
      // A multipart ETag's parts: split where the record says.
      const partSizes = size === 0 ? [] : [Math.ceil(size / 2), Math.floor(size / 2)]
      const halves = [body.subarray(0, Math.ceil(size / 2)), body.subarray(Math.ceil(size / 2))]
      expect(await digestOf({ ...r, partSizes })).toEqual({
        size,
        digests: size === 0 ? [md5(body)] : halves.map(md5), // no parts: one digest of all
      })
    }
    const inline = await seal(randomBytes(5000), { key: 'i', inline: true })
    if (inline.kind !== 'inline') throw new Error('expected inline')
    const i: ObjectRecord = {
      ...record('i', []),
      size: 5000,
      data: { kind: 'inline', bytes: inline.bytes, wrappedKey: inline.wrappedKey },
    }
    expect(await digestOf(i)).toEqual({ size: 5000, digests: [md5(await read(i))] })
  })

  it('fails a flipped bit, and a key wrapped for another bucket, as decryptingRead does', async () => {
    const body = randomBytes(5 * 1024 * 1024)
    const part = await piece(await seal(body, { key: 'big' }), body.length)
    const tampered = await withFlippedBitInSegment9('big', part)
    const err = await digestOf(tampered).catch((e: unknown) => e)
    const streamed = await read(tampered).catch((e: unknown) => e)
    expect(isKeyError(err, 'IntegrityFailure')).toBe(true)
    expect((err as Error).message).toBe((streamed as Error).message)
    expect((err as { details: Record<string, string> }).details).toMatchObject({
      dc: 'dc-1',
      bucket: 'b',
      key: 'big',
      segment: '9',
    })
    await seal(randomBytes(10), { key: 'other', bucket: 'b2' }) // b2 has a key of its own
    const foreign = await digestOf(record('big', [part], 'b2')).catch((e: unknown) => e)
    expect(isKeyError(foreign, 'InvalidWrappedKey')).toBe(true)
    expect((foreign as { details: Record<string, string> }).details).toMatchObject({ bucket: 'b2' })
  })
})

/** The object `key` made of `part`, whose stored envelope has one bit flipped inside segment 9. */
async function withFlippedBitInSegment9(key: string, part: BlobPart): Promise<ObjectRecord> {
  const stored = await readAll(blob.read(part.ref))
  const at = 16 + 9 * (ENVELOPE_SEGMENT_SIZE + 16) + 7
  stored.writeUInt8(stored.readUInt8(at) ^ 1, at)
  const pending = await blob.write(Readable.from([stored]))
  await pending.commit()
  return record(key, [{ ...part, ref: pending.ref }])
}
