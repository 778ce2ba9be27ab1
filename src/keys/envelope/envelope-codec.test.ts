// The envelope's sealer and opener (the code behind both streams and `sealEnvelope`) against
// envelopes written before they existed, against a plain per-segment AES-GCM reference, and under
// every way a network or a file can cut the bytes into chunks.
import { createCipheriv, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isKeyError } from '../key-error.js'
import { sealEnvelope } from './encrypt-stream.js'
import {
  ciphertextRangeFor,
  ENVELOPE_HEADER_SIZE,
  ENVELOPE_TAG_SIZE,
  type EnvelopeBinding,
  parseEnvelopeHeader,
  SegmentParams,
  segmentAad,
  segmentNonce,
} from './envelope-format.js'
import { EnvelopeOpener } from './envelope-opener.js'
import { EnvelopeSealer } from './envelope-sealer.js'

interface Vector {
  dek: string
  binding: EnvelopeBinding
  segmentSize: number
  plaintextSize: number
  envelope: string
}

const VECTORS = (
  JSON.parse(readFileSync(new URL('./testdata/v1-envelopes.json', import.meta.url), 'utf8')) as {
    vectors: Vector[]
  }
).vectors

const plaintextOf = (n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251))

const SEG = 1024
const binding: EnvelopeBinding = { dc: 'us-west-1', bucket: 'b', key: 'k', versionId: 'null' }

/** Feeds `bytes` to `sink` in chunks of the given sizes (cycled), returning what came out. */
function feed(
  bytes: Buffer,
  sizes: readonly number[],
  sink: { update(chunk: Buffer, out: Buffer[]): void; final(out: Buffer[]): void },
): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number
    sink.update(bytes.subarray(at, at + n), out)
    at += n
  }
  sink.final(out)
  return Buffer.concat(out)
}

/** The format written out by hand: one fresh AES-256-GCM per segment, as README.md describes. */
function referenceSeal(plaintext: Buffer, dek: Buffer, header: Buffer, b: EnvelopeBinding): Buffer {
  const h = parseEnvelopeHeader(header)
  const n = Math.max(1, Math.ceil(plaintext.length / h.segmentSize))
  const parts: Buffer[] = [header]
  for (let i = 0; i < n; i++) {
    const cipher = createCipheriv('aes-256-gcm', dek, segmentNonce(h, i))
    cipher.setAAD(segmentAad(h, { binding: b, index: i, isLast: i === n - 1 }))
    parts.push(cipher.update(plaintext.subarray(i * h.segmentSize, (i + 1) * h.segmentSize)))
    parts.push(cipher.final(), cipher.getAuthTag())
  }
  return Buffer.concat(parts)
}

const CHUNKINGS: Array<[string, number[]]> = [
  ['one byte at a time', [1]],
  ['odd sizes', [7, 333, 1, 16, 17]],
  ['exactly one segment with its tag', [SEG + ENVELOPE_TAG_SIZE]],
  ['a segment and a split tag', [SEG + 8, 8, 13]],
  ['everything at once', [1 << 30]],
]

import { nativeGcmBuilt, useNativeGcm } from './native-gcm.js'

// Every case runs on both ciphers: the addon (when built) and node:crypto, its fallback.
const CIPHERS = nativeGcmBuilt() ? ['native', 'node:crypto'] : ['node:crypto']

describe.each(CIPHERS)('with %s AES-GCM', (cipher) => {
  beforeAll(() => useNativeGcm(cipher === 'native'))
  afterAll(() => useNativeGcm(true))

  describe('envelopes written by earlier code (format version 1)', () => {
    it.each(VECTORS.map((v) => [v.plaintextSize, v.binding.key, v] as const))(
      'opens the stored %i-byte envelope of "%s" in any chunking',
      (_size, _key, v) => {
        const envelope = Buffer.from(v.envelope, 'base64')
        const expected = plaintextOf(v.plaintextSize)
        for (const [, sizes] of CHUNKINGS) {
          const opener = new EnvelopeOpener(
            { dek: Buffer.from(v.dek, 'hex'), binding: v.binding },
            { plaintextSize: v.plaintextSize },
          )
          expect(feed(envelope, sizes, opener)).toEqual(expected)
        }
      },
    )

    it('opens ranges of a stored envelope', () => {
      const v = VECTORS[0] as Vector
      const envelope = Buffer.from(v.envelope, 'base64')
      const all = plaintextOf(v.plaintextSize)
      for (const range of [
        { start: 0, end: 0 },
        { start: 1000, end: 1100 },
        { start: 2047, end: 3171 },
        { start: 3100, end: 3171 },
      ]) {
        const cipher = ciphertextRangeFor(range, {
          plaintextSize: v.plaintextSize,
          segmentSize: v.segmentSize,
        })
        const opener = new EnvelopeOpener(
          { dek: Buffer.from(v.dek, 'hex'), binding: v.binding },
          {
            range,
            plaintextSize: v.plaintextSize,
            header: envelope.subarray(0, ENVELOPE_HEADER_SIZE),
          },
        )
        const got = feed(envelope.subarray(cipher.start, cipher.end + 1), [100, 1, 999], opener)
        expect(got).toEqual(all.subarray(range.start, range.end + 1))
      }
    })

    it('writes byte for byte what the stored envelopes hold, given the same key and nonce prefix', () => {
      for (const v of VECTORS) {
        const stored = Buffer.from(v.envelope, 'base64')
        const dek = Buffer.from(v.dek, 'hex')
        const header = stored.subarray(0, ENVELOPE_HEADER_SIZE)
        expect(referenceSeal(plaintextOf(v.plaintextSize), dek, header, v.binding)).toEqual(stored)
      }
    })
  })

  describe('EnvelopeSealer', () => {
    it.each(CHUNKINGS)('writes exactly the reference envelope when fed %s', (_name, sizes) => {
      for (const size of [0, 1, SEG - 1, SEG, SEG + 1, 5 * SEG + 17]) {
        const dek = randomBytes(32)
        const plaintext = randomBytes(size)
        const sealed = feed(
          plaintext,
          sizes,
          new EnvelopeSealer({ dek, binding, segmentSize: SEG }),
        )
        const header = sealed.subarray(0, ENVELOPE_HEADER_SIZE)
        expect(sealed).toEqual(referenceSeal(plaintext, dek, header, binding))
      }
    })

    it('draws a fresh nonce prefix for every envelope, even under one key', () => {
      const dek = randomBytes(32)
      const prefixes = new Set<string>()
      for (let i = 0; i < 50; i++) {
        const out: Buffer[] = []
        new EnvelopeSealer({ dek, binding, segmentSize: SEG }).final(out)
        prefixes.add((out[0] as Buffer).subarray(12, 16).toString('hex'))
      }
      expect(prefixes.size).toBe(50)
    })

    it('refuses bytes after final() and a second final()', () => {
      const sealer = new EnvelopeSealer({ dek: randomBytes(32), binding })
      sealer.final([])
      expect(() => sealer.update(Buffer.from('x'), [])).toThrow(/finished/)
      expect(() => sealer.final([])).toThrow(/finished/)
    })
  })

  describe('EnvelopeOpener', () => {
    const dek = randomBytes(32)
    const plaintext = randomBytes(4 * SEG + 5)
    const sealed = feed(plaintext, [SEG], new EnvelopeSealer({ dek, binding, segmentSize: SEG }))

    it.each(CHUNKINGS)('opens an envelope fed %s', (_name, sizes) => {
      const opener = new EnvelopeOpener({ dek, binding }, { plaintextSize: plaintext.length })
      expect(feed(sealed, sizes, opener)).toEqual(plaintext)
      expect(opener.segmentsVerified).toBe(5)
    })

    it.each(CHUNKINGS)('refuses a flipped bit in any segment or tag fed %s', (_name, sizes) => {
      for (const pos of [
        ENVELOPE_HEADER_SIZE + 1,
        ENVELOPE_HEADER_SIZE + SEG + 3,
        sealed.length - 1,
      ]) {
        const bad = Buffer.from(sealed)
        bad[pos] = (bad[pos] as number) ^ 0x04
        const opener = new EnvelopeOpener({ dek, binding }, { plaintextSize: plaintext.length })
        let err: unknown
        try {
          feed(bad, sizes, opener)
        } catch (e) {
          err = opener.asIntegrity(e)
        }
        expect(isKeyError(err, 'IntegrityFailure')).toBe(true)
      }
    })
  })

  describe('SegmentParams', () => {
    it('gives the bytes of segmentNonce and segmentAad, for whole objects and parts', () => {
      for (const b of [binding, { ...binding, partNumber: 10_000, key: 'ünï/cødé' }]) {
        const header = parseEnvelopeHeader(
          feed(Buffer.alloc(0), [1], new EnvelopeSealer({ dek: randomBytes(32), binding: b })),
        )
        const params = new SegmentParams(header, b)
        for (const [index, isLast] of [
          [0, false],
          [0, true],
          [1, false],
          [70_000, true],
          [2 ** 40, false],
        ] as const) {
          expect(params.nonce(index)).toEqual(segmentNonce(header, index))
          expect(params.aad(index, isLast)).toEqual(
            segmentAad(header, { binding: b, index, isLast }),
          )
        }
      }
    })
  })

  describe('sealEnvelope', () => {
    it('yields the envelope of its source; the caller may zero its key at once', async () => {
      const dek = randomBytes(32)
      const copy = Buffer.from(dek)
      const plaintext = randomBytes(3 * SEG + 3)
      const sealed = sealEnvelope(
        Readable.from([plaintext.subarray(0, 100), plaintext.subarray(100)]),
        {
          dek,
          binding,
          segmentSize: SEG,
        },
      )
      dek.fill(0)
      const chunks: Buffer[] = []
      for await (const chunk of sealed) chunks.push(chunk)
      const envelope = Buffer.concat(chunks)
      const opener = new EnvelopeOpener({ dek: copy, binding }, { plaintextSize: plaintext.length })
      expect(feed(envelope, [envelope.length], opener)).toEqual(plaintext)
    })

    it("throws the source's own error", async () => {
      const boom = new Error('client went away')
      async function* source() {
        yield randomBytes(10)
        throw boom
      }
      const sealed = sealEnvelope(source(), { dek: randomBytes(32), binding })
      const err = await (async () => {
        for await (const _ of sealed) {
          // drain
        }
      })().catch((e: unknown) => e)
      expect(err).toBe(boom)
    })
  })
})
