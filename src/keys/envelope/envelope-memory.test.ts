// What the sealer and opener do to the memory they are fed: never write to it unless told the
// chunks are theirs (`chunksOwned`), then work in place and still give the same bytes; let go of
// fed chunks on `releaseChunks()` (a worker transfers them back right after).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isKeyError } from '../key-error.js'
import { ENVELOPE_HEADER_SIZE, ENVELOPE_TAG_SIZE, type EnvelopeBinding } from './envelope-format.js'
import { EnvelopeOpener } from './envelope-opener.js'
import { EnvelopeSealer } from './envelope-sealer.js'
import { nativeGcmBuilt, useNativeGcm } from './native-gcm.js'

const SEG = 1024
const FULL = SEG + ENVELOPE_TAG_SIZE
const binding: EnvelopeBinding = { dc: 'us-west-1', bucket: 'b', key: 'k', versionId: 'null' }
const CIPHERS = nativeGcmBuilt() ? ['native', 'node:crypto'] : ['node:crypto']
/** Chunk sizes, cycled: segments split across chunks, tags split, many pieces per segment. */
const CHUNKINGS: number[][] = [[1], [7, 333, 1, 16, 17], [FULL], [SEG + 8, 8, 13], [1 << 30]]

interface Sink {
  update(chunk: Buffer, out: Buffer[]): void
  final(out: Buffer[]): void
}

/** Feeds copies of `bytes` cut at `sizes` (cycled); returns the output and the chunks fed. */
function feed(bytes: Buffer, sizes: readonly number[], sink: Sink) {
  const out: Buffer[] = []
  const chunks: Buffer[] = []
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number
    const chunk = Buffer.from(bytes.subarray(at, at + n))
    chunks.push(chunk)
    sink.update(chunk, out)
    at += n
  }
  sink.final(out)
  return { output: Buffer.concat(out), chunks }
}

function seal(plaintext: Buffer, dek: Buffer): Buffer {
  return feed(plaintext, [1 << 30], new EnvelopeSealer({ dek, binding, segmentSize: SEG })).output
}

describe.each(CIPHERS)('with %s AES-GCM', (cipher) => {
  beforeAll(() => useNativeGcm(cipher === 'native'))
  afterAll(() => useNativeGcm(true))
  const dek = randomBytes(32)

  for (const size of [0, 1, SEG, 3 * SEG + 5]) {
    const plaintext = randomBytes(size)

    it(`never writes to chunks it was not given (${size} bytes)`, () => {
      for (const sizes of CHUNKINGS) {
        const sealed = feed(
          plaintext,
          sizes,
          new EnvelopeSealer({ dek, binding, segmentSize: SEG }),
        )
        expect(Buffer.concat(sealed.chunks)).toEqual(plaintext)
        const opened = feed(sealed.output, sizes, new EnvelopeOpener({ dek, binding }))
        expect(opened.output).toEqual(plaintext)
        expect(Buffer.concat(opened.chunks)).toEqual(sealed.output)
      }
    })

    it(`gives the same bytes working in place on chunks it owns (${size} bytes)`, () => {
      const envelope = seal(plaintext, dek)
      for (const sizes of CHUNKINGS) {
        const own = { chunksOwned: true }
        const opened = feed(envelope, sizes, new EnvelopeOpener({ dek, binding }, {}, own))
        expect(opened.output).toEqual(plaintext)
        const sealer = new EnvelopeSealer({ dek, binding, segmentSize: SEG }, own)
        const sealed = feed(plaintext, sizes, sealer)
        expect(feed(sealed.output, [1 << 30], new EnvelopeOpener({ dek, binding })).output).toEqual(
          plaintext,
        )
      }
    })
  }

  it('opens a range in place', () => {
    const plaintext = randomBytes(4 * SEG)
    const envelope = seal(plaintext, dek)
    const header = envelope.subarray(0, ENVELOPE_HEADER_SIZE)
    // Segments 1 and 2 hold plaintext bytes 1500-2600.
    const bytes = envelope.subarray(ENVELOPE_HEADER_SIZE + FULL, ENVELOPE_HEADER_SIZE + 3 * FULL)
    const range = { start: 1500, end: 2600 }
    const options = { range, plaintextSize: plaintext.length, header }
    for (const sizes of CHUNKINGS) {
      const opener = new EnvelopeOpener({ dek, binding }, options, { chunksOwned: true })
      expect(feed(bytes, sizes, opener).output).toEqual(plaintext.subarray(1500, 2601))
    }
  })

  it('lets go of the chunks fed so far on releaseChunks()', () => {
    const plaintext = randomBytes(3 * SEG + 5)
    const envelope = seal(plaintext, dek)
    // Cut inside segment 1 (and later inside a tag): bytes of both stay queued after each feed.
    for (const cut of [ENVELOPE_HEADER_SIZE + FULL + 100, ENVELOPE_HEADER_SIZE + 2 * FULL - 3]) {
      const opener = new EnvelopeOpener({ dek, binding }, {}, { chunksOwned: true })
      const out: Buffer[] = []
      const first = Buffer.from(envelope.subarray(0, cut))
      opener.update(first, out)
      const early = Buffer.concat(out)
      out.length = 0
      opener.releaseChunks()
      first.fill(0xa5) // as if the chunk had been transferred away and reused
      opener.update(Buffer.from(envelope.subarray(cut)), out)
      opener.final(out)
      expect(early.length).toBe(Math.floor((cut - ENVELOPE_HEADER_SIZE) / FULL) * SEG)
      expect(Buffer.concat([early, ...out])).toEqual(plaintext)
    }
    const sealer = new EnvelopeSealer({ dek, binding, segmentSize: SEG }, { chunksOwned: true })
    const out: Buffer[] = []
    const first = Buffer.from(plaintext.subarray(0, SEG + 100))
    sealer.update(first, out)
    sealer.releaseChunks()
    // What came out so far (the header and segment 0, sealed in place) leaves with the chunk.
    const early = Buffer.concat(out)
    out.length = 0
    first.fill(0xa5)
    sealer.update(Buffer.from(plaintext.subarray(SEG + 100)), out)
    sealer.final(out)
    const whole = Buffer.concat([early, ...out])
    expect(feed(whole, [1 << 30], new EnvelopeOpener({ dek, binding })).output).toEqual(plaintext)
  })

  it('fails a tampered segment in place and hands out only what verified before it', () => {
    const plaintext = randomBytes(3 * SEG)
    const envelope = seal(plaintext, dek)
    const tampered = Buffer.from(envelope)
    const inSegment1 = ENVELOPE_HEADER_SIZE + FULL + 10
    tampered.writeUInt8(tampered.readUInt8(inSegment1) ^ 1, inSegment1)
    const opener = new EnvelopeOpener({ dek, binding }, {}, { chunksOwned: true })
    const out: Buffer[] = []
    const chunk = Buffer.from(tampered)
    let error: unknown
    try {
      opener.update(chunk, out)
      opener.final(out)
    } catch (err) {
      error = opener.asIntegrity(err)
    }
    expect(isKeyError(error) && error.code).toBe('IntegrityFailure')
    expect(Buffer.concat(out)).toEqual(plaintext.subarray(0, SEG))
    if (cipher === 'native') {
      // What the cipher wrote over segment 1 before its tag failed is not left in the chunk.
      const segment1 = chunk.subarray(
        ENVELOPE_HEADER_SIZE + FULL,
        ENVELOPE_HEADER_SIZE + FULL + SEG,
      )
      expect(segment1).toEqual(Buffer.alloc(SEG))
    }
  })
})
