import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { type Cell, encryptingWrite } from '../../cell/index.js'
import type { ObjectRecord } from '../../meta/index.js'
import { corruptingWrites, type GateWorld, openGateWorld } from './fixtures/test-fixtures.js'
import {
  copyObjectBetweenCells,
  OFF_THREAD_MIN_BYTES,
  openPlaintextRange,
} from './object-copier.js'

const worlds: GateWorld[] = []
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close()
})

/** Stores `parts` as a two-blob multipart object with the S3 multipart ETag. */
async function putMultipart(cell: Cell, key: string, parts: Buffer[]): Promise<ObjectRecord> {
  const refs = []
  for (const part of parts) {
    const pending = await cell.blob.write(Readable.from([part]))
    await pending.commit()
    refs.push({ ref: pending.ref, size: part.length })
  }
  const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))
  return storeRecord(cell, {
    key,
    size: parts.reduce((n, p) => n + p.length, 0),
    etag: `${createHash('md5').update(md5s).digest('hex')}-${parts.length}`,
    partsCount: parts.length,
    partSizes: parts.map((p) => p.length),
    encryption: null, // plaintext blobs, as objects stored before encryption at rest
    data: { kind: 'blobs', parts: refs },
  })
}

/** Stores `bytes` as an object encrypted under the data center's key, as a PUT does. */
async function putSealed(cell: Cell, key: string, bytes: Buffer): Promise<ObjectRecord> {
  const bucket = 'src-bucket'
  const sealed = await encryptingWrite(cell, Readable.from([bytes]), {
    identity: { bucket, key, versionId: null },
    provider: await cell.keys.wrapperFor({ bucket, kmsKeyArn: null, customerKey: null }),
    inline: false,
  })
  if (sealed.kind !== 'pending') throw new Error('expected a blob')
  await sealed.pending.commit()
  return storeRecord(cell, {
    key,
    size: bytes.length,
    etag: createHash('md5').update(bytes).digest('hex'),
    partsCount: null,
    partSizes: null,
    encryption: { algorithm: 'AES256', kmsKeyId: null, customerKeyFingerprint: null },
    data: {
      kind: 'blobs',
      parts: [{ ref: sealed.pending.ref, size: bytes.length, wrappedKey: sealed.wrappedKey }],
    },
  })
}

/** Writes the source object's row: `fields`, in bucket `src-bucket`, with no headers or checksums. */
async function storeRecord(
  cell: Cell,
  fields: Pick<
    ObjectRecord,
    'key' | 'size' | 'etag' | 'partsCount' | 'partSizes' | 'encryption' | 'data'
  >,
): Promise<ObjectRecord> {
  const record: ObjectRecord = {
    bucket: 'src-bucket',
    versionId: null,
    lastModified: 1,
    headers: {},
    userMetadata: {},
    checksums: {},
    checksumType: null,
    ...fields,
  }
  await cell.meta.putObject(record)
  return record
}

/** Files under a cell's blob folder (committed blobs and temp files). */
function blobFiles(dataDir: string, dc: string): string[] {
  const found: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (path.includes(dc) && path.includes('blobs')) found.push(path)
    }
  }
  walk(dataDir)
  return found
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

describe('object copier', () => {
  it('copies a multipart object, verifying its multipart ETag part by part', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const destination = w.cells.get('us-east-1') as Cell
    const parts = [randomBytes(5000), randomBytes(3000)]
    const record = await putMultipart(source, 'mp', parts)
    const out = await copyObjectBetweenCells(
      source,
      destination,
      { bucket: 'src-bucket', key: 'mp' },
      { bucket: 'dst-bucket' },
      { inlineMaxBytes: 0 },
    )
    expect(out.kind).toBe('copied')
    const copy = await destination.meta.getObject('dst-bucket', 'mp', { withData: true })
    expect(copy).toMatchObject({ etag: record.etag, size: 8000, partSizes: [5000, 3000] })
    expect(await w.get('us-east-1', 'dst-bucket', 'mp')).toEqual(Buffer.concat(parts))
    expect(
      await copyObjectBetweenCells(
        source,
        destination,
        { bucket: 'src-bucket', key: 'absent' },
        { bucket: 'dst-bucket' },
        { inlineMaxBytes: 0 },
      ),
    ).toEqual({ kind: 'missing' })
  })

  it('reads a range across blob parts, and fails a whole read whose bytes do not match the ETag', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const parts = [randomBytes(1000), randomBytes(1000)]
    const record = await putMultipart(source, 'mp', parts)
    const all = Buffer.concat(parts)
    const range = await bytesOf(await openPlaintextRange(source, record, { start: 990, end: 1009 }))
    expect(range).toEqual(all.subarray(990, 1010))
    expect(await bytesOf(await openPlaintextRange(source, record, null))).toEqual(all)
    const lying = { ...record, etag: `${'0'.repeat(32)}-2` }
    await expect(bytesOf(await openPlaintextRange(source, lying, null))).rejects.toMatchObject({
      code: 'TransferVerificationFailed',
    })
  })

  it('copies a large multipart object, its part MD5s computed on an envelope worker as it is read back', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const destination = w.cells.get('us-east-1') as Cell
    const parts = [randomBytes(OFF_THREAD_MIN_BYTES), randomBytes(1024 * 1024 + 11)]
    const record = await putMultipart(source, 'large', parts)
    const out = await copyObjectBetweenCells(
      source,
      destination,
      { bucket: 'src-bucket', key: 'large' },
      { bucket: 'dst-bucket' },
      { inlineMaxBytes: 0 },
    )
    expect(out).toMatchObject({ kind: 'copied', record: { etag: record.etag } })
    const copy = (await w.get('us-east-1', 'dst-bucket', 'large')) as Buffer
    // Compared as digests: a deep equality over 5 MiB takes vitest minutes.
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    expect(sha(copy)).toBe(sha(Buffer.concat(parts)))
  })

  it('detects a corrupted destination write: the copy fails and nothing of it stays', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const destination = corruptingWrites(w.cells.get('us-east-1') as Cell)
    const before = blobFiles(w.dataDir, 'us-east-1')
    // A small object (hashed here) and a large one (hashed on the worker).
    for (const [key, size] of [
      ['small', 5000],
      ['large', OFF_THREAD_MIN_BYTES + 5],
    ] as const) {
      await w.put('us-west-1', 'src-bucket', key, randomBytes(size))
      await expect(
        copyObjectBetweenCells(
          source,
          destination,
          { bucket: 'src-bucket', key },
          { bucket: 'dst-bucket' },
          { inlineMaxBytes: 0 },
        ),
      ).rejects.toMatchObject({
        code: 'TransferVerificationFailed',
        message: expect.stringContaining('does not decrypt'),
      })
      expect(await destination.meta.getObject('dst-bucket', key)).toBeNull()
    }
    expect(blobFiles(w.dataDir, 'us-east-1')).toEqual(before)
  })

  it('catches corruption in the middle of a large streamed write while it is written, and stops the write', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const real = w.cells.get('us-east-1') as Cell
    const size = 24 * 1024 * 1024
    const flipAt = 8 * 1024 * 1024
    let passed = 0
    let stalled: 'aborted' | 'timed out' | null = null
    // A destination disk that flips one bit at 8 MiB, takes 6 MiB more (the write's stream
    // buffers and the check's 256 KiB segments and ~1 MiB worker batches lag the file by a few
    // MiB; with 2 MiB, as first written for 64 KiB segments, the check cannot reach the flipped
    // segment before the stall), then stalls until the write's check fails: only a check running while the blob is written can end the stall
    // (a check that runs after the write never starts while the write cannot finish), and the
    // stall resumes after 20 s so that a copy verified only afterwards fails, not hangs.
    async function* corrupt(
      bytes: AsyncIterable<Buffer> | Readable,
      signal: AbortSignal | undefined,
    ): AsyncGenerator<Buffer> {
      for await (const chunk of bytes) {
        const buffer = chunk as Buffer
        if (passed <= flipAt && passed + buffer.length > flipAt) {
          const copy = Buffer.from(buffer)
          copy[flipAt - passed] = (copy[flipAt - passed] ?? 0) ^ 0x01
          passed += buffer.length
          yield copy
          continue
        }
        if (stalled === null && passed >= flipAt + 6 * 1024 * 1024) {
          stalled = await new Promise<'aborted' | 'timed out'>((resolve) => {
            const timer = setTimeout(() => resolve('timed out'), 20_000)
            signal?.addEventListener('abort', () => {
              clearTimeout(timer)
              resolve('aborted')
            })
          })
        }
        passed += buffer.length
        yield buffer
      }
    }
    const destination: Cell = {
      ...real,
      blob: {
        write: (bytes, options) => {
          // The stall ends when the check fails mid-write (or the caller aborts).
          const failed = new AbortController()
          const check = options?.check
          const signal =
            options?.signal === undefined
              ? failed.signal
              : AbortSignal.any([options.signal, failed.signal])
          return real.blob.write(corrupt(bytes, signal), {
            ...options,
            ...(check === undefined
              ? {}
              : {
                  check: async (stored, ref) => {
                    try {
                      await check(stored, ref)
                    } catch (err) {
                      failed.abort(err)
                      throw err
                    }
                  },
                }),
          })
        },
        read: (ref, range) => real.blob.read(ref, range),
        remove: (refs) => real.blob.remove(refs),
        sweep: (isLive) => real.blob.sweep(isLive),
        close: () => real.blob.close(),
      },
    }
    const before = blobFiles(w.dataDir, 'us-east-1')
    await w.put('us-west-1', 'src-bucket', 'big', randomBytes(size))
    await expect(
      copyObjectBetweenCells(
        source,
        destination,
        { bucket: 'src-bucket', key: 'big' },
        { bucket: 'dst-bucket' },
        { inlineMaxBytes: 0 },
      ),
    ).rejects.toMatchObject({
      code: 'TransferVerificationFailed',
      message: expect.stringContaining('does not decrypt'),
    })
    // Caught mid-object (before the stall, or during it): the check stopped the write.
    expect(stalled).not.toBe('timed out')
    expect(passed).toBeLessThan(size)
    expect(await real.meta.getObject('dst-bucket', 'big')).toBeNull()
    expect(blobFiles(w.dataDir, 'us-east-1')).toEqual(before)
  }, 60_000)

  it('copies encrypted objects, the large one opened and resealed in one worker job', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const destination = w.cells.get('us-east-1') as Cell
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    for (const [key, size] of [
      ['small', 5000],
      ['large', OFF_THREAD_MIN_BYTES + 2 * 1024 * 1024 + 3],
    ] as const) {
      const bytes = randomBytes(size)
      const record = await putSealed(source, key, bytes)
      const out = await copyObjectBetweenCells(
        source,
        destination,
        { bucket: 'src-bucket', key },
        { bucket: 'dst-bucket' },
        { inlineMaxBytes: 0 },
      )
      expect(out).toMatchObject({ kind: 'copied', record: { etag: record.etag, size } })
      const copy = (await destination.meta.getObject('dst-bucket', key, {
        withData: true,
      })) as ObjectRecord
      // Stored under a data key of the destination's own: another wrapped key, another blob.
      expect(copy.data).toMatchObject({ kind: 'blobs', parts: [{ size }] })
      if (copy.data.kind !== 'blobs' || record.data.kind !== 'blobs') throw new Error('blobs')
      expect(copy.data.parts[0]?.wrappedKey).not.toBe(record.data.parts[0]?.wrappedKey)
      expect(sha((await w.get('us-east-1', 'dst-bucket', key)) as Buffer)).toBe(sha(bytes))
    }
  })

  it('fails a copy whose encrypted source was tampered with, small or resealed on the worker, and stores nothing', async () => {
    const w = await openGateWorld()
    worlds.push(w)
    const source = w.cells.get('us-west-1') as Cell
    const destination = w.cells.get('us-east-1') as Cell
    const before = blobFiles(w.dataDir, 'us-east-1')
    // 5000 bytes: decrypted on the event loop; 6 MiB: opened and resealed in one worker job.
    for (const [key, size] of [
      ['small', 5000],
      ['large', OFF_THREAD_MIN_BYTES + 2 * 1024 * 1024],
    ] as const) {
      const record = await putSealed(source, key, randomBytes(size))
      if (record.data.kind !== 'blobs') throw new Error('expected a blob')
      const part = record.data.parts[0] as { ref: string; size: number; wrappedKey: string }
      const stored = await bytesOf(source.blob.read(part.ref))
      const at = stored.length - 100 // in the last segment: most of the object verifies first
      stored.writeUInt8(stored.readUInt8(at) ^ 0x01, at)
      const pending = await source.blob.write(Readable.from([stored]))
      await pending.commit()
      await source.meta.putObject({
        ...record,
        data: { kind: 'blobs', parts: [{ ...part, ref: pending.ref }] },
      })
      const err = await copyObjectBetweenCells(
        source,
        destination,
        { bucket: 'src-bucket', key },
        { bucket: 'dst-bucket' },
        { inlineMaxBytes: 0 },
      ).catch((e: unknown) => e)
      // The destination's blob store reports its source failing, the cause being the source's
      // envelope failing authentication (naming the source object), on both paths.
      expect(err).toMatchObject({
        code: 'SourceFailed',
        cause: { code: 'IntegrityFailure', details: { dc: 'us-west-1', key } },
      })
      expect(await destination.meta.getObject('dst-bucket', key)).toBeNull()
    }
    expect(blobFiles(w.dataDir, 'us-east-1')).toEqual(before)
  })
})
