import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isKeyError, type KeyError } from '../key-error.js'
import { generateDataKey, sealEnvelope } from './encrypt-stream.js'
import {
  ciphertextRangeFor,
  ENVELOPE_HEADER_SIZE,
  ENVELOPE_TAG_SIZE,
  type EnvelopeBinding,
} from './envelope-format.js'
import { EnvelopeOpener, type OpenOptions } from './envelope-opener.js'
import {
  digestEnvelopeOffThread,
  openEnvelopeOffThread,
  resealEnvelopeOffThread,
} from './envelope-threads.js'
import { digestEnvelope, type EnvelopeDigest } from './plaintext-digest.js'

// The worker runs the event loop's opener: what the event loop sealed, it opens to the same
// bytes, with the same checks and the same errors. Segments are
// small here so that a few hundred KiB span many segments and several 256 KiB batches.
const SEG = 4096
const FULL = SEG + ENVELOPE_TAG_SIZE
const binding: EnvelopeBinding = {
  dc: 'us-west-1',
  bucket: 'photos',
  key: 'a/b.jpg',
  versionId: 'null',
}

function slices(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size))
  return out
}

async function* pieces(data: Buffer, size = 100_003): AsyncGenerator<Buffer> {
  yield* slices(data, size)
}

async function drain(source: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; error: unknown }> {
  const out: Buffer[] = []
  try {
    for await (const chunk of source) out.push(chunk)
    return { bytes: Buffer.concat(out), error: null }
  } catch (error) {
    return { bytes: Buffer.concat(out), error }
  }
}

/** The event loop's opener over `envelope` (the reference). */
function openHere(envelope: Buffer, dek: Buffer, options: OpenOptions = {}, b = binding) {
  const opener = new EnvelopeOpener({ dek, binding: b }, options)
  const out: Buffer[] = []
  try {
    opener.update(envelope, out)
    opener.final(out)
    return { bytes: Buffer.concat(out), error: null as unknown }
  } catch (err) {
    return { bytes: Buffer.concat(out), error: opener.asIntegrity(err) }
  }
}

async function sealHere(plaintext: Buffer, dek: Buffer): Promise<Buffer> {
  return (await drain(sealEnvelope(pieces(plaintext), { dek, binding, segmentSize: SEG }))).bytes
}

describe('envelope crypto on a worker thread', () => {
  it.each([0, 1, SEG, SEG + 1, 256 * 1024, 700_001, 3_000_000])(
    'opens %i bytes the event loop sealed, from odd chunks and from whole buffers',
    async (size) => {
      const plaintext = randomBytes(size)
      const dek = generateDataKey()
      const here = await sealHere(plaintext, dek)
      const opened = await drain(
        openEnvelopeOffThread(pieces(here, 65_537), { dek, binding }, { plaintextSize: size }),
      )
      expect(opened.error).toBeNull()
      expect(opened.bytes.equals(plaintext)).toBe(true)
      // Chunks that are buffers of their own move to the worker without a copy (and are emptied).
      const owned = slices(here, 256 * 1024).map((p) => Uint8Array.from(p))
      const moved = await drain(
        openEnvelopeOffThread(
          (async function* () {
            for (const chunk of owned) yield Buffer.from(chunk.buffer)
          })(),
          { dek, binding },
          { plaintextSize: size },
          { sourceChunksOwned: true },
        ),
      )
      expect(moved.error).toBeNull()
      expect(moved.bytes.equals(plaintext)).toBe(true)
    },
  )

  it('opens a range across segments, reading only its segments', async () => {
    const size = 300_000
    const plaintext = randomBytes(size)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    const header = envelope.subarray(0, ENVELOPE_HEADER_SIZE)
    for (const range of [
      { start: 0, end: 0 },
      { start: SEG - 10, end: SEG + 10 },
      { start: 123_456, end: 299_999 },
    ]) {
      const cipher = ciphertextRangeFor(range, { plaintextSize: size, segmentSize: SEG })
      const slice = envelope.subarray(cipher.start, cipher.end + 1)
      const got = await drain(
        openEnvelopeOffThread(
          pieces(slice),
          { dek, binding },
          { range, plaintextSize: size, header },
        ),
      )
      expect(got.error).toBeNull()
      expect(got.bytes.equals(plaintext.subarray(range.start, range.end + 1))).toBe(true)
    }
  })

  it('fails a flipped bit with the same IntegrityFailure, after the segments that verified', async () => {
    const plaintext = randomBytes(3_000_000)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    const tampered = Buffer.from(envelope)
    const segment = 500 // about 2 MiB in: in the second batch of about 1.25 MiB sent to the worker
    const at = ENVELOPE_HEADER_SIZE + segment * FULL + 5
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at)
    const reference = openHere(tampered, dek)
    const got = await drain(openEnvelopeOffThread(pieces(tampered), { dek, binding }))
    expect(isKeyError(got.error, 'IntegrityFailure')).toBe(true)
    const err = got.error as KeyError
    expect(err.message).toBe((reference.error as KeyError).message)
    expect(err.details).toMatchObject({
      dc: 'us-west-1',
      bucket: 'photos',
      key: 'a/b.jpg',
      segment: '500',
    })
    // Every byte handed out verified, and nothing of the tampered segment was; the first batch's
    // bytes did come out (they verified before the failing batch was opened).
    expect(got.bytes.equals(plaintext.subarray(0, got.bytes.length))).toBe(true)
    expect(got.bytes.length).toBeLessThanOrEqual(segment * SEG)
    expect(got.bytes.length).toBeGreaterThanOrEqual(1_000_000)
  })

  it('fails a truncated envelope, another binding and another key', async () => {
    const plaintext = randomBytes(50_000)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    const truncated = await drain(
      openEnvelopeOffThread(pieces(envelope.subarray(0, envelope.length - FULL)), { dek, binding }),
    )
    expect(isKeyError(truncated.error, 'IntegrityFailure')).toBe(true)
    const moved = await drain(
      openEnvelopeOffThread(pieces(envelope), { dek, binding: { ...binding, key: 'other' } }),
    )
    expect(isKeyError(moved.error, 'IntegrityFailure')).toBe(true)
    expect(moved.bytes.length).toBe(0)
    const wrongKey = await drain(
      openEnvelopeOffThread(pieces(envelope), { dek: generateDataKey(), binding }),
    )
    expect(isKeyError(wrongKey.error, 'IntegrityFailure')).toBe(true)
  })

  it('passes a failing source through and leaves the caller key untouched', async () => {
    const dek = generateDataKey()
    const copy = Buffer.from(dek)
    const envelope = await sealHere(randomBytes(600_000), dek)
    async function* broken(): AsyncGenerator<Buffer> {
      yield envelope.subarray(0, 300_000)
      throw new Error('disk went away')
    }
    const got = await drain(openEnvelopeOffThread(broken(), { dek, binding }))
    expect((got.error as Error).message).toBe('disk went away')
    expect(dek.equals(copy)).toBe(true)
  })

  it('keeps many streams apart on the shared workers', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => randomBytes(100_000 + i * 7919))
    const dek = generateDataKey()
    const sealed = await Promise.all(inputs.map((p) => sealHere(p, dek)))
    const opened = await Promise.all(
      sealed.map((e) => drain(openEnvelopeOffThread(pieces(e, 9_999), { dek, binding }))),
    )
    opened.forEach((o, i) => {
      expect(o.error).toBeNull()
      expect(o.bytes.equals(inputs[i] as Buffer)).toBe(true)
    })
  })
})

/** MD5 of `plaintext` split at `partSizes` (the rest in one last part), the reference. */
function md5sOf(plaintext: Buffer, partSizes: readonly number[] | null): string[] {
  if (partSizes === null) return [createHash('md5').update(plaintext).digest('hex')]
  const out: string[] = []
  let at = 0
  for (const size of partSizes) {
    if (at >= plaintext.length) break
    out.push(
      createHash('md5')
        .update(plaintext.subarray(at, at + size))
        .digest('hex'),
    )
    at += size
  }
  if (at < plaintext.length)
    out.push(createHash('md5').update(plaintext.subarray(at)).digest('hex'))
  return out
}

async function settle(
  digest: Promise<EnvelopeDigest>,
): Promise<{ got: EnvelopeDigest | null; error: unknown }> {
  try {
    return { got: await digest, error: null }
  } catch (error) {
    return { got: null, error }
  }
}

describe('opening and digesting an envelope in one worker job', () => {
  it.each([0, 1, SEG, SEG + 1, 256 * 1024, 1_310_720, 3_000_000])(
    'gives the size and MD5 of the %i bytes decrypting would give, on the worker and here',
    async (size) => {
      const plaintext = randomBytes(size)
      const dek = generateDataKey()
      const envelope = await sealHere(plaintext, dek)
      const reference = openHere(envelope, dek)
      expect(reference.bytes.equals(plaintext)).toBe(true)
      const expected = md5sOf(reference.bytes, null)
      const options = { plaintextSize: size }
      const there = await digestEnvelopeOffThread(
        pieces(envelope, 65_537),
        { dek, binding },
        options,
      )
      expect(there.size).toBe(size)
      expect(there.digests.map((d) => d.toString('hex'))).toEqual(expected)
      const here = await digestEnvelope(pieces(envelope, 65_537), { dek, binding }, options)
      expect(here).toEqual(there)
      // Owned chunks move to the worker without a copy, as for a blob read.
      const owned = slices(envelope, 256 * 1024).map((p) => Uint8Array.from(p))
      const moved = await digestEnvelopeOffThread(
        (async function* () {
          for (const chunk of owned) yield Buffer.from(chunk.buffer)
        })(),
        { dek, binding },
        options,
        { sourceChunksOwned: true },
      )
      expect(moved).toEqual(there)
    },
  )

  it('splits the digest at part sizes, as a multipart ETag needs', async () => {
    const plaintext = randomBytes(2_500_000)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    for (const partSizes of [
      [1_000_000, 1_000_000, 500_000],
      [1_048_576, 1_451_424],
      [2_500_000],
      [700_000],
    ]) {
      const got = await digestEnvelopeOffThread(pieces(envelope), { dek, binding }, { partSizes })
      expect(got.size).toBe(plaintext.length)
      expect(got.digests.map((d) => d.toString('hex'))).toEqual(md5sOf(plaintext, partSizes))
      expect(await digestEnvelope(pieces(envelope), { dek, binding }, { partSizes })).toEqual(got)
    }
  })

  it("fails a flipped bit with the streaming open's IntegrityFailure, and hands back no plaintext", async () => {
    const plaintext = randomBytes(3_000_000)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    const tampered = Buffer.from(envelope)
    const at = ENVELOPE_HEADER_SIZE + 500 * FULL + 5 // in the second batch sent to the worker
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at)
    const streaming = await drain(openEnvelopeOffThread(pieces(tampered), { dek, binding }))
    const there = await settle(digestEnvelopeOffThread(pieces(tampered), { dek, binding }))
    expect(isKeyError(there.error, 'IntegrityFailure')).toBe(true)
    const err = there.error as KeyError
    expect(err.message).toBe((streaming.error as KeyError).message)
    expect(err.details).toEqual((streaming.error as KeyError).details)
    expect(err.details).toMatchObject({ dc: 'us-west-1', bucket: 'photos', segment: '500' })
    const here = await settle(digestEnvelope(pieces(tampered), { dek, binding }))
    expect((here.error as KeyError).message).toBe(err.message)
    expect((here.error as KeyError).details).toEqual(err.details)
  })

  it('fails truncation, a wrong size, another binding and another key', async () => {
    const plaintext = randomBytes(2_000_000)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    const cases: Array<[string, Buffer, Buffer, EnvelopeBinding, number | undefined]> = [
      [
        'cut at a segment boundary',
        envelope.subarray(0, envelope.length - FULL),
        dek,
        binding,
        undefined,
      ],
      ['cut mid-segment', envelope.subarray(0, envelope.length - 1000), dek, binding, undefined],
      ['other size expected', envelope, dek, binding, plaintext.length + 1],
      ['other binding', envelope, dek, { ...binding, key: 'other' }, undefined],
      ['other data center', envelope, dek, { ...binding, dc: 'us-east-1' }, undefined],
      ['other key', envelope, generateDataKey(), binding, undefined],
    ]
    for (const [name, bytes, key, b, plaintextSize] of cases) {
      const options = plaintextSize === undefined ? {} : { plaintextSize }
      const there = await settle(
        digestEnvelopeOffThread(pieces(bytes), { dek: key, binding: b }, options),
      )
      expect(isKeyError(there.error, 'IntegrityFailure'), name).toBe(true)
      const here = await settle(digestEnvelope(pieces(bytes), { dek: key, binding: b }, options))
      expect((here.error as KeyError).message, name).toBe((there.error as KeyError).message)
    }
  })

  it('passes a failing source through and leaves the caller key untouched', async () => {
    const dek = generateDataKey()
    const copy = Buffer.from(dek)
    const envelope = await sealHere(randomBytes(2_000_000), dek)
    async function* broken(): AsyncGenerator<Buffer> {
      yield envelope.subarray(0, 1_500_000)
      throw new Error('disk went away')
    }
    const there = await settle(digestEnvelopeOffThread(broken(), { dek, binding }))
    expect((there.error as Error).message).toBe('disk went away')
    const here = await settle(digestEnvelope(broken(), { dek, binding }))
    expect((here.error as Error).message).toBe('disk went away')
    expect(dek.equals(copy)).toBe(true)
  })
})

describe('resealing an envelope in one worker job', () => {
  const other: EnvelopeBinding = {
    dc: 'us-east-1',
    bucket: 'copy',
    key: 'a/b.jpg',
    versionId: 'null',
  }

  it.each([0, 1, SEG, 700_001, 3_000_000])(
    'seals the %i bytes it opens under the new key and binding, and nothing else opens them',
    async (size) => {
      const plaintext = randomBytes(size)
      const dek = generateDataKey()
      const envelope = await sealHere(plaintext, dek)
      const next = generateDataKey()
      const keys = [Buffer.from(dek), Buffer.from(next)]
      const resealed = await drain(
        resealEnvelopeOffThread(
          pieces(envelope, 65_537),
          { dek, binding, plaintextSize: size },
          { dek: next, binding: other, segmentSize: SEG },
        ),
      )
      expect(resealed.error).toBeNull()
      // The caller's keys are its own: copied, not zeroed.
      expect([dek, next]).toEqual(keys)
      const opened = openHere(resealed.bytes, next, { plaintextSize: size }, other)
      expect(opened.error).toBeNull()
      expect(opened.bytes.equals(plaintext)).toBe(true)
      expect(isKeyError(openHere(resealed.bytes, dek, {}, other).error, 'IntegrityFailure')).toBe(
        true,
      )
      expect(
        isKeyError(openHere(resealed.bytes, next, {}, binding).error, 'IntegrityFailure'),
      ).toBe(true)
    },
  )

  it("fails a flipped bit, truncation and another key with the opener's IntegrityFailure", async () => {
    const plaintext = randomBytes(3_000_000)
    const dek = generateDataKey()
    const envelope = await sealHere(plaintext, dek)
    const tampered = Buffer.from(envelope)
    const at = ENVELOPE_HEADER_SIZE + 500 * FULL + 5
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at)
    const seal = { dek: generateDataKey(), binding: other }
    const flipped = await drain(resealEnvelopeOffThread(pieces(tampered), { dek, binding }, seal))
    const streaming = await drain(openEnvelopeOffThread(pieces(tampered), { dek, binding }))
    expect(isKeyError(flipped.error, 'IntegrityFailure')).toBe(true)
    expect((flipped.error as KeyError).message).toBe((streaming.error as KeyError).message)
    expect((flipped.error as KeyError).details).toMatchObject({ bucket: 'photos', segment: '500' })
    // What came out before the failure is the start of an envelope that cannot be whole.
    expect(flipped.bytes.length).toBeLessThan(envelope.length)
    for (const [bytes, key, size] of [
      [envelope.subarray(0, envelope.length - FULL), dek, undefined],
      [envelope, dek, plaintext.length - 1],
      [envelope, generateDataKey(), undefined],
    ] as const) {
      const got = await drain(
        resealEnvelopeOffThread(
          pieces(bytes),
          { dek: key, binding, ...(size === undefined ? {} : { plaintextSize: size }) },
          seal,
        ),
      )
      expect(isKeyError(got.error, 'IntegrityFailure')).toBe(true)
    }
  })
})
