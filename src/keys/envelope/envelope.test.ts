import { createHash, randomBytes } from 'node:crypto'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isKeyError } from '../key-error.js'
import { createDecryptStream, type DecryptOptions } from './decrypt-stream.js'
import { createEncryptStream, generateDataKey } from './encrypt-stream.js'
import {
  ciphertextRangeFor,
  ciphertextSizeOf,
  ENVELOPE_HEADER_SIZE,
  ENVELOPE_TAG_SIZE,
  type EnvelopeBinding,
  parseEnvelopeHeader,
  plaintextSizeOf,
} from './envelope-format.js'

const SEG = 1024
const FULL = SEG + ENVELOPE_TAG_SIZE
const binding: EnvelopeBinding = {
  dc: 'us-west-1',
  bucket: 'photos',
  key: 'a/b.jpg',
  versionId: 'null',
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

/** Feeds `data` in odd-sized chunks, as a network would. */
function chunked(data: Buffer, size = 333): Readable {
  const parts: Buffer[] = []
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size))
  return Readable.from(parts)
}

async function seal(
  plaintext: Buffer,
  opts: { dek?: Buffer; binding?: EnvelopeBinding; segmentSize?: number } = {},
) {
  const dek = opts.dek ?? generateDataKey()
  const ciphertext = await collect(
    chunked(plaintext).pipe(
      createEncryptStream({
        dek,
        binding: opts.binding ?? binding,
        segmentSize: opts.segmentSize ?? SEG,
      }),
    ),
  )
  return { dek, ciphertext }
}

async function open(
  ciphertext: Buffer,
  dek: Buffer,
  opts: { binding?: EnvelopeBinding; options?: DecryptOptions } = {},
): Promise<Buffer> {
  const decrypt = createDecryptStream({ dek, binding: opts.binding ?? binding }, opts.options ?? {})
  return collect(chunked(ciphertext, 700).pipe(decrypt))
}

async function expectIntegrityFailure(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isKeyError(err, 'IntegrityFailure'), `expected IntegrityFailure, got ${String(err)}`).toBe(
    true,
  )
}

import { nativeGcmBuilt, useNativeGcm } from './native-gcm.js'

// Every case runs on both ciphers: the addon (when built) and node:crypto, its fallback.
const CIPHERS = nativeGcmBuilt() ? ['native', 'node:crypto'] : ['node:crypto']

describe.each(CIPHERS)('with %s AES-GCM', (cipher) => {
  beforeAll(() => useNativeGcm(cipher === 'native'))
  afterAll(() => useNativeGcm(true))

  describe('envelope round trip', () => {
    it.each([0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 5 * SEG + 17])(
      'createEncryptStream() → createDecryptStream() returns the %i plaintext bytes',
      async (size) => {
        const plaintext = randomBytes(size)
        const { dek, ciphertext } = await seal(plaintext)
        expect(ciphertext.length).toBe(ciphertextSizeOf(size, SEG))
        expect(plaintextSizeOf(ciphertext.length, SEG)).toBe(size)
        expect(await open(ciphertext, dek)).toEqual(plaintext)
      },
    )

    it('writes a versioned header: magic, version, segment size, nonce prefix', async () => {
      const { ciphertext } = await seal(Buffer.from('x'))
      const header = parseEnvelopeHeader(ciphertext)
      expect(ciphertext.subarray(0, 4).toString('ascii')).toBe('SVRE')
      expect(header.version).toBe(1)
      expect(header.segmentSize).toBe(SEG)
      expect(header.noncePrefix.length).toBe(4)
    })

    it('uses 256 KiB segments by default and a fresh nonce prefix per object', async () => {
      const dek = generateDataKey()
      const a = await collect(
        Readable.from([Buffer.alloc(10)]).pipe(createEncryptStream({ dek, binding })),
      )
      const b = await collect(
        Readable.from([Buffer.alloc(10)]).pipe(createEncryptStream({ dek, binding })),
      )
      expect(parseEnvelopeHeader(a).segmentSize).toBe(262_144)
      expect(a.subarray(12, 16).equals(b.subarray(12, 16))).toBe(false)
      expect(a.subarray(ENVELOPE_HEADER_SIZE).equals(b.subarray(ENVELOPE_HEADER_SIZE))).toBe(false)
    })
  })

  describe('envelope integrity', () => {
    const plaintext = randomBytes(3 * SEG + 100)

    it('refuses a flipped bit anywhere: header, body, tag, last segment', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      const positions = [
        0,
        4,
        5,
        7,
        9,
        12,
        15,
        ENVELOPE_HEADER_SIZE,
        ENVELOPE_HEADER_SIZE + SEG + 3,
      ]
      positions.push(ENVELOPE_HEADER_SIZE + FULL - 1, ciphertext.length - 1, ciphertext.length - 20)
      for (const pos of positions) {
        const bad = Buffer.from(ciphertext)
        bad[pos] = (bad[pos] as number) ^ 0x01
        await expectIntegrityFailure(open(bad, dek))
      }
    })

    it('emits no plaintext of a segment whose tag fails', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      const bad = Buffer.from(ciphertext)
      const pos = ENVELOPE_HEADER_SIZE + FULL + 5 // inside segment 1
      bad[pos] = (bad[pos] as number) ^ 0x80
      const decrypt = createDecryptStream({ dek, binding })
      const seen: Buffer[] = []
      decrypt.on('data', (c: Buffer) => seen.push(c))
      await expectIntegrityFailure(pipeline(chunked(bad, 700), decrypt))
      // Only segment 0, which verified, came out.
      expect(Buffer.concat(seen)).toEqual(plaintext.subarray(0, SEG))
    })

    it('detects truncation: a missing last segment, a cut tag, a cut header', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      // Drop the whole last segment: the new last one was not written with isLast.
      await expectIntegrityFailure(
        open(ciphertext.subarray(0, ENVELOPE_HEADER_SIZE + 3 * FULL), dek),
      )
      await expectIntegrityFailure(
        open(ciphertext.subarray(0, ENVELOPE_HEADER_SIZE + 2 * FULL), dek),
      )
      await expectIntegrityFailure(open(ciphertext.subarray(0, ciphertext.length - 1), dek))
      await expectIntegrityFailure(open(ciphertext.subarray(0, ENVELOPE_HEADER_SIZE + 10), dek))
      await expectIntegrityFailure(open(ciphertext.subarray(0, 9), dek))
      await expectIntegrityFailure(open(Buffer.alloc(0), dek))
      // Exact multiple of the segment size: the full last segment is still marked.
      const even = await seal(randomBytes(2 * SEG))
      await expectIntegrityFailure(
        open(even.ciphertext.subarray(0, ENVELOPE_HEADER_SIZE + FULL), even.dek),
      )
    })

    it('checks the plaintext length when the caller knows it, and names where a segment failed', async () => {
      const plaintext = randomBytes(3 * SEG)
      const { dek, ciphertext } = await seal(plaintext)
      const opened = await open(ciphertext, dek, { options: { plaintextSize: 3 * SEG } })
      expect(opened.equals(plaintext)).toBe(true)
      await expectIntegrityFailure(
        open(ciphertext, dek, { options: { plaintextSize: 3 * SEG + 1 } }),
      )
      const tampered = Buffer.from(ciphertext)
      tampered.writeUInt8(
        tampered.readUInt8(ENVELOPE_HEADER_SIZE + FULL + 5) ^ 1,
        ENVELOPE_HEADER_SIZE + FULL + 5,
      )
      const err = await open(tampered, dek, { binding: { ...binding, partNumber: 0 } }).catch(
        (e: unknown) => e,
      )
      expect(isKeyError(err, 'IntegrityFailure')).toBe(true)
      expect((err as { details: Record<string, string> }).details).toMatchObject({
        dc: 'us-west-1',
        bucket: 'photos',
        key: 'a/b.jpg',
        segment: '1',
      })
    })

    it('detects appended bytes', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      await expectIntegrityFailure(open(Buffer.concat([ciphertext, Buffer.alloc(1)]), dek))
    })

    it('detects swapped and duplicated segments', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      const seg = (i: number) =>
        ciphertext.subarray(ENVELOPE_HEADER_SIZE + i * FULL, ENVELOPE_HEADER_SIZE + (i + 1) * FULL)
      const head = ciphertext.subarray(0, ENVELOPE_HEADER_SIZE)
      const tail = ciphertext.subarray(ENVELOPE_HEADER_SIZE + 3 * FULL)
      await expectIntegrityFailure(open(Buffer.concat([head, seg(1), seg(0), seg(2), tail]), dek))
      await expectIntegrityFailure(open(Buffer.concat([head, seg(0), seg(0), seg(2), tail]), dek))
      await expectIntegrityFailure(open(Buffer.concat([head, seg(0), seg(2), tail]), dek))
    })

    it('refuses a segment spliced in from another object under the same DEK', async () => {
      const dek = generateDataKey()
      const a = await seal(plaintext, { dek })
      const b = await seal(plaintext, { dek, binding: { ...binding, key: 'other' } })
      const spliced = Buffer.concat([
        a.ciphertext.subarray(0, ENVELOPE_HEADER_SIZE + FULL),
        b.ciphertext.subarray(ENVELOPE_HEADER_SIZE + FULL),
      ])
      await expectIntegrityFailure(open(spliced, dek))
    })

    it("refuses another object's DEK and any other binding field", async () => {
      const { dek, ciphertext } = await seal(plaintext)
      await expectIntegrityFailure(open(ciphertext, generateDataKey()))
      const others: EnvelopeBinding[] = [
        { ...binding, dc: 'us-east-1' },
        { ...binding, bucket: 'photos2' },
        { ...binding, key: 'a/b.jpeg' },
        { ...binding, versionId: 'v2' },
        { ...binding, partNumber: 1 },
      ]
      for (const other of others)
        await expectIntegrityFailure(open(ciphertext, dek, { binding: other }))
    })

    it('length-prefixes the AAD so shifted field boundaries do not collide', async () => {
      const a: EnvelopeBinding = { dc: 'dc', bucket: 'ab', key: 'c', versionId: 'null' }
      const { dek, ciphertext } = await seal(plaintext, { binding: a })
      await expectIntegrityFailure(
        open(ciphertext, dek, { binding: { ...a, bucket: 'a', key: 'bc' } }),
      )
    })
  })

  describe('range decrypt', () => {
    const size = 10 * SEG + 300
    const plaintext = randomBytes(size)

    /** Reads the range the way a GET would: header, then only the ciphertext the helper names. */
    async function readRange(ciphertext: Buffer, dek: Buffer, start: number, end: number) {
      const r = ciphertextRangeFor({ start, end }, { plaintextSize: size, segmentSize: SEG })
      const slice = ciphertext.subarray(r.start, r.end + 1)
      const decrypt = createDecryptStream(
        { dek, binding },
        {
          range: { start, end },
          plaintextSize: size,
          header: ciphertext.subarray(0, ENVELOPE_HEADER_SIZE),
        },
      )
      const out = await collect(chunked(slice, 500).pipe(decrypt))
      return { out, r, slice, verified: decrypt.segmentsVerified }
    }

    it('decrypts only the segments the range touches and emits exactly the range', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      const cases: Array<[number, number, number]> = [
        [0, 0, 1],
        [5, SEG - 1, 1],
        [SEG - 1, SEG, 2],
        [3 * SEG + 10, 3 * SEG + 20, 1],
        [2 * SEG, 6 * SEG - 1, 4],
        [size - 1, size - 1, 1],
        [10 * SEG, size - 1, 1],
        [0, size - 1, 11],
      ]
      for (const [start, end, segments] of cases) {
        const { out, r, slice, verified } = await readRange(ciphertext, dek, start, end)
        expect(out).toEqual(plaintext.subarray(start, end + 1))
        expect(verified).toBe(segments)
        expect(r.lastSegment - r.firstSegment + 1).toBe(segments)
        expect(slice.length).toBeLessThanOrEqual(segments * FULL)
      }
    })

    it('plans a 1 KiB read of a 1 GiB object as one or two 256 KiB segments', () => {
      const gib = 1024 ** 3
      const r = ciphertextRangeFor({ start: 500_000_000, end: 500_001_023 }, gib)
      expect(r.end - r.start + 1).toBeLessThanOrEqual(2 * (262_144 + 16))
      // An object written with 64 KiB segments (before 2026-11-28) is planned by its own size.
      const old = ciphertextRangeFor(
        { start: 500_000_000, end: 500_001_023 },
        { plaintextSize: gib, segmentSize: 65_536 },
      )
      expect(old.end - old.start + 1).toBeLessThanOrEqual(2 * (65_536 + 16))
    })

    it('fails loudly on a tampered segment inside the range', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      const bad = Buffer.from(ciphertext)
      const pos = ENVELOPE_HEADER_SIZE + 4 * FULL + 7
      bad[pos] = (bad[pos] as number) ^ 1
      await expectIntegrityFailure(readRange(bad, dek, 4 * SEG, 4 * SEG + 10))
    })

    it('fails on a truncated range stream and on a range stream with extra bytes', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      const header = ciphertext.subarray(0, ENVELOPE_HEADER_SIZE)
      const options = { range: { start: 0, end: 2 * SEG }, plaintextSize: size, header }
      const r = ciphertextRangeFor(options.range, { plaintextSize: size, segmentSize: SEG })
      await expectIntegrityFailure(open(ciphertext.subarray(r.start, r.end), dek, { options }))
      await expectIntegrityFailure(open(ciphertext.subarray(r.start, r.end + 2), dek, { options }))
    })

    it('refuses a range stream of a truncated object (the last segment must carry the flag)', async () => {
      const { dek, ciphertext } = await seal(plaintext)
      // Pretend the object ends after segment 3: segment 3 was not written as the last one.
      const lie = 4 * SEG
      const header = ciphertext.subarray(0, ENVELOPE_HEADER_SIZE)
      const r = ciphertextRangeFor(
        { start: 3 * SEG, end: lie - 1 },
        { plaintextSize: lie, segmentSize: SEG },
      )
      await expectIntegrityFailure(
        open(ciphertext.subarray(r.start, r.end + 1), dek, {
          options: { range: { start: 3 * SEG, end: lie - 1 }, plaintextSize: lie, header },
        }),
      )
    })

    it('rejects unsatisfiable ranges and impossible sizes', () => {
      expect(() => ciphertextRangeFor({ start: 5, end: 4 }, { plaintextSize: 10 })).toThrow(
        RangeError,
      )
      expect(() => ciphertextRangeFor({ start: 0, end: 10 }, { plaintextSize: 10 })).toThrow(
        RangeError,
      )
      expect(() => plaintextSizeOf(ENVELOPE_HEADER_SIZE + 5)).toThrow(/not valid|too small/)
      expect(plaintextSizeOf(ciphertextSizeOf(0))).toBe(0)
      expect(plaintextSizeOf(ciphertextSizeOf(65_536 * 3))).toBe(65_536 * 3)
    })
  })

  describe('streaming', () => {
    it('encrypts and decrypts 10 MiB with bounded memory: the producer never runs far ahead', async () => {
      const total = 10 * 1024 * 1024
      const piece = 16 * 1024
      let produced = 0
      let consumed = 0
      let maxLead = 0
      const inHash = createHash('sha256')
      const outHash = createHash('sha256')
      async function* source() {
        while (produced < total) {
          const chunk = randomBytes(piece)
          inHash.update(chunk)
          produced += chunk.length
          yield chunk
        }
      }
      const dek = generateDataKey()
      const sink = new Transform({
        transform(chunk: Buffer, _e, cb) {
          consumed += chunk.length
          outHash.update(chunk)
          maxLead = Math.max(maxLead, produced - consumed)
          // A slow consumer: backpressure must stop the producer instead of buffering.
          setImmediate(cb)
        },
      })
      sink.resume()
      await pipeline(
        Readable.from(source()),
        createEncryptStream({ dek, binding }),
        createDecryptStream({ dek, binding }),
        sink,
      )
      expect(consumed).toBe(total)
      expect(outHash.digest('hex')).toBe(inHash.digest('hex'))
      expect(maxLead).toBeLessThan(1024 * 1024)
    })
  })
})
