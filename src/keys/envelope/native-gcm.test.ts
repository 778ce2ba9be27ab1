import { spawnSync } from 'node:child_process'
import { createCipheriv, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { NATIVE_GCM_MAX_PIECES, type NativeGcm, nativeGcm, nativeGcmBuilt } from './native-gcm.js'

const hex = (s: string) => Buffer.from(s, 'hex')

/**
 * AES-256-GCM Test Case 16 of "The Galois/Counter Mode of Operation (GCM)", D. McGrew and
 * J. Viega (the NIST submission's test vectors): 60 bytes of plaintext, 20 bytes of AAD.
 */
const VECTOR = {
  key: hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'),
  iv: hex('cafebabefacedbaddecaf888'),
  plaintext: hex(
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  ),
  aad: hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'),
  ciphertext: hex(
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
  ),
  tag: hex('76fc6ece0f4e1768cddf8853bb2d551b'),
}

/** Flips bits `mask` of byte `at`. */
function flip(bytes: Buffer, at: number, mask = 1): void {
  bytes.writeUInt8((bytes.readUInt8(at) ^ mask) & 0xff, at)
}

const compilerPresent = spawnSync(process.env.CC || 'cc', ['--version']).status === 0

/** `bytes` cut at `cuts` (offsets), as the pieces a queue hands the cipher. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = []
  let at = 0
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(at, cut))
    at = cut
  }
  return pieces
}

function nodeSeal(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Buffer) {
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad)
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return { ciphertext, tag: cipher.getAuthTag() }
}

describe('the AES-GCM addon', () => {
  it('is built and loaded wherever a C compiler is present (as in CI)', () => {
    // Without this, a broken build would silently leave every read on the slower path.
    expect(nativeGcmBuilt()).toBe(compilerPresent)
  })

  const native = nativeGcm()
  // Skipped where there is no addon to test (no C compiler); the test above says when that is.
  const maybe = native === null ? describe.skip : describe
  const addon = native as NativeGcm

  maybe('against the GCM specification and node:crypto', () => {
    it('seals and opens Test Case 16 of the GCM specification, in place and into a buffer', () => {
      const { key, iv, aad, plaintext, ciphertext, tag } = VECTOR
      const inPlace = Buffer.from(plaintext)
      const sealedTag = Buffer.alloc(16)
      expect(addon.gcm(true, key, iv, aad, split(inPlace, [7, 31]), null, sealedTag)).toBe(true)
      expect(inPlace).toEqual(ciphertext)
      expect(sealedTag).toEqual(tag)

      const into = Buffer.alloc(plaintext.length + 3, 0xee)
      expect(addon.gcm(false, key, iv, aad, split(ciphertext, [16]), into, tag)).toBe(true)
      expect(into.subarray(0, plaintext.length)).toEqual(plaintext)
      expect(into.subarray(plaintext.length)).toEqual(Buffer.alloc(3, 0xee))
      expect(ciphertext).toEqual(VECTOR.ciphertext) // the input was not written to
    })

    it('gives the bytes and tag of node:crypto for any size and any cut into pieces', () => {
      for (const size of [0, 1, 15, 16, 17, 4095, 65_536, 65_543]) {
        const key = randomBytes(32)
        const iv = randomBytes(12)
        const aad = randomBytes(size % 2 === 0 ? 41 : 0)
        const plaintext = randomBytes(size)
        const expected = nodeSeal(key, iv, aad, plaintext)
        const cuts = size < 3 ? [] : [1, Math.floor(size / 3), size - 1]
        const sealed = Buffer.from(plaintext)
        const tag = Buffer.alloc(16)
        expect(addon.gcm(true, key, iv, aad, split(sealed, cuts), null, tag)).toBe(true)
        expect(sealed).toEqual(expected.ciphertext)
        expect(tag).toEqual(expected.tag)
        const opened = Buffer.from(sealed)
        expect(addon.gcm(false, key, iv, aad, split(opened, cuts), null, tag)).toBe(true)
        expect(opened).toEqual(plaintext)
      }
    })
  })

  maybe('when the tag does not verify', () => {
    const { key, iv, aad, ciphertext, tag } = VECTOR
    const cases: [string, (b: { key: Buffer; iv: Buffer; aad: Buffer; tag: Buffer }) => void][] = [
      ['a flipped ciphertext bit', () => undefined],
      ['another key', (b) => flip(b.key, 0)],
      ['another nonce', (b) => flip(b.iv, 11)],
      ['other associated data', (b) => flip(b.aad, 0)],
      ['another tag', (b) => flip(b.tag, 15)],
    ]
    for (const [what, spoil] of cases) {
      it(`returns false and leaves no plaintext behind: ${what}`, () => {
        const b = { key: Buffer.from(key), iv: Buffer.from(iv), aad: Buffer.from(aad), tag }
        b.tag = Buffer.from(tag)
        spoil(b)
        const inPlace = Buffer.from(ciphertext)
        if (what === 'a flipped ciphertext bit') flip(inPlace, 40, 4)
        expect(addon.gcm(false, b.key, b.iv, b.aad, split(inPlace, [9]), null, b.tag)).toBe(false)
        expect(inPlace).toEqual(Buffer.alloc(ciphertext.length))
        const into = Buffer.alloc(ciphertext.length, 0xee)
        const input = Buffer.from(ciphertext)
        if (what === 'a flipped ciphertext bit') flip(input, 40, 4)
        expect(addon.gcm(false, b.key, b.iv, b.aad, [input], into, b.tag)).toBe(false)
        expect(into).toEqual(Buffer.alloc(ciphertext.length))
      })
    }
  })

  maybe('bad arguments', () => {
    const { key, iv, aad, plaintext } = VECTOR
    const tag = Buffer.alloc(16)
    const bad: [string, unknown[]][] = [
      ['a short key', [true, key.subarray(1), iv, aad, [plaintext], null, tag]],
      ['a 16-byte nonce', [true, key, Buffer.alloc(16), aad, [plaintext], null, tag]],
      ['a short tag', [true, key, iv, aad, [plaintext], null, Buffer.alloc(15)]],
      ['a string key', [true, 'k'.repeat(32), iv, aad, [plaintext], null, tag]],
      ['pieces that are not an array', [true, key, iv, aad, plaintext, null, tag]],
      ['a piece that is not bytes', [true, key, iv, aad, [plaintext, 'x'], null, tag]],
      ['a Uint16Array piece', [true, key, iv, aad, [new Uint16Array(8)], null, tag]],
      [
        'an output shorter than the pieces',
        [true, key, iv, aad, [plaintext], Buffer.alloc(59), tag],
      ],
      [
        'too many pieces',
        [true, key, iv, aad, Array(NATIVE_GCM_MAX_PIECES + 1).fill(plaintext), null, tag],
      ],
      ['a missing argument', [true, key, iv, aad, [plaintext], null]],
      ['seal that is not a boolean', [1, key, iv, aad, [plaintext], null, tag]],
    ]
    for (const [what, args] of bad) {
      it(`throws a TypeError and writes nothing: ${what}`, () => {
        const before = Buffer.from(plaintext)
        const call = () => (addon.gcm as (...a: unknown[]) => boolean)(...args)
        expect(call).toThrow(TypeError)
        expect(plaintext).toEqual(before)
        expect(tag).toEqual(Buffer.alloc(16))
      })
    }
  })
})
