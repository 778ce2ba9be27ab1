import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { createPayloadDecoder, verifyWholePayload } from './payload-decoder.js'
import { encodeAwsChunked, signRequestHeaders } from './sign.js'
import type { PayloadMode } from './sigv4-types.js'
import { AKID, byteByByte, DOC_NOW, decodeAll, randomSplits, SECRET } from './test-fixtures.js'

/** The seed of the AWS documentation chunked upload example. */
const docSigning = signRequestHeaders({
  accessKeyId: AKID,
  secretAccessKey: SECRET,
  region: 'us-east-1',
  now: DOC_NOW,
  method: 'PUT',
  url: 'https://s3.amazonaws.com/examplebucket/chunkObject.txt',
  headers: {
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'content-length': '66824',
    'x-amz-decoded-content-length': '66560',
  },
  payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
}).chunkSigning

const signedMode = (trailer: boolean): PayloadMode => ({
  kind: 'streaming-signed',
  trailer,
  seedSignature: docSigning.seedSignature,
  signingKey: docSigning.signingKey,
  amzDate: docSigning.amzDate,
  scope: docSigning.scope,
})
const unsignedTrailerMode: PayloadMode = { kind: 'streaming-unsigned', trailer: true }

const docData = Buffer.alloc(66_560, 'a')
const docBody = encodeAwsChunked(docData, { signing: docSigning })

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(data))
  return out.toString('base64')
}

/** A small body (three chunks, so byte-by-byte feeding stays fast). */
const small = Buffer.from(Array.from({ length: 2500 }, (_v, i) => (i * 7) % 251))

async function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err as { code?: string }).code ?? String(err),
  )
}

describe('createPayloadDecoder: unsigned and sha256', () => {
  it('passes an unsigned body through', async () => {
    const data = await decodeAll(createPayloadDecoder({ kind: 'unsigned' }), randomSplits(small, 1))
    expect(data.equals(small)).toBe(true)
  })

  it('passes a body through and checks its SHA-256 at the end', async () => {
    const expected = createHash('sha256').update(small).digest('hex')
    const ok = await decodeAll(
      createPayloadDecoder({ kind: 'sha256', expected }),
      randomSplits(small, 2),
    )
    expect(ok.equals(small)).toBe(true)
    const bad = Buffer.from(small)
    bad[100] = 0
    expect(await code(decodeAll(createPayloadDecoder({ kind: 'sha256', expected }), [bad]))).toBe(
      'XAmzContentSHA256Mismatch',
    )
  })
})

describe('createPayloadDecoder: signed aws-chunked', () => {
  it('decodes the AWS documentation example and checks every chunk signature', async () => {
    const decoder = createPayloadDecoder(signedMode(false), { decodedContentLength: 66_560 })
    const data = await decodeAll(decoder, [docBody])
    expect(data.equals(docData)).toBe(true)
    expect(decoder.trailers).toEqual({})
  })

  it('decodes under random fragmentation', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const pieces = randomSplits(docBody, seed, seed * 997)
      const data = await decodeAll(createPayloadDecoder(signedMode(false)), pieces)
      expect(data.equals(docData)).toBe(true)
    }
  })

  it('decodes when fed byte by byte', async () => {
    const body = encodeAwsChunked(small, { signing: docSigning, chunkSize: 1000 })
    const data = await decodeAll(createPayloadDecoder(signedMode(false)), byteByByte(body))
    expect(data.equals(small)).toBe(true)
  })

  it('fails with SignatureDoesNotMatch when a data byte is changed', async () => {
    const firstData = docBody.indexOf('\r\n') + 2
    const secondData = docBody.indexOf('\r\n', docBody.indexOf('\r\n', firstData + 65_536) + 2) + 2
    expect(docBody.subarray(secondData - 2, secondData + 1).toString()).toBe('\r\na')
    for (const offset of [
      firstData,
      firstData + 100,
      firstData + 65_535,
      secondData,
      secondData + 1023,
    ]) {
      const body = Buffer.from(docBody)
      body[offset] = 'b'.charCodeAt(0)
      const pieces = randomSplits(body, offset, 3000)
      expect(await code(decodeAll(createPayloadDecoder(signedMode(false)), pieces))).toBe(
        'SignatureDoesNotMatch',
      )
    }
  })

  it('fails with SignatureDoesNotMatch for a wrong, missing or reordered chunk signature', async () => {
    const text = docBody.toString('latin1')
    const wrongFinal = text.replace('b6c6ea8a', 'b6c6ea8b')
    const missing = text.replace(/^10000;chunk-signature=[0-9a-f]+/, '10000')
    const otherSeed: PayloadMode = {
      ...signedMode(false),
      seedSignature: '0'.repeat(64),
    } as PayloadMode
    expect(
      await code(
        decodeAll(createPayloadDecoder(signedMode(false)), [Buffer.from(wrongFinal, 'latin1')]),
      ),
    ).toBe('SignatureDoesNotMatch')
    expect(
      await code(
        decodeAll(createPayloadDecoder(signedMode(false)), [Buffer.from(missing, 'latin1')]),
      ),
    ).toBe('SignatureDoesNotMatch')
    expect(await code(decodeAll(createPayloadDecoder(otherSeed), [docBody]))).toBe(
      'SignatureDoesNotMatch',
    )
  })

  it('fails with IncompleteBody when the body stops early, anywhere', async () => {
    for (const cut of [0, 5, 90, 40_000, 65_630, docBody.length - 3, docBody.length - 1]) {
      expect(
        await code(decodeAll(createPayloadDecoder(signedMode(false)), [docBody.subarray(0, cut)])),
      ).toBe('IncompleteBody')
    }
  })

  it('fails when the decoded length differs from x-amz-decoded-content-length', async () => {
    for (const decodedContentLength of [66_559, 66_561, 0]) {
      expect(
        await code(
          decodeAll(createPayloadDecoder(signedMode(false), { decodedContentLength }), [docBody]),
        ),
      ).toBe('IncompleteBody')
    }
  })

  it('fails on malformed framing', async () => {
    const text = docBody.toString('latin1')
    const cases: [string, string][] = [
      [text.replace(/^10000/, 'zz'), 'InvalidChunkSizeError'],
      [text.replace(/^10000/, ''), 'InvalidChunkSizeError'],
      [`${'1'.repeat(5000)}\r\n`, 'InvalidChunkSizeError'],
      [text.replace(/^10000/, 'ffff'), 'IncompleteBody'],
      [text.replace(/^10000/, '10001'), 'IncompleteBody'],
      [`${text}extra`, 'IncompleteBody'],
      [text.replace(/\r\n/, '\n'), 'IncompleteBody'],
    ]
    for (const [body, expected] of cases) {
      expect(
        await code(
          decodeAll(createPayloadDecoder(signedMode(false)), [Buffer.from(body, 'latin1')]),
        ),
      ).toBe(expected)
    }
  })
})

describe('createPayloadDecoder: trailers', () => {
  const checksum = crc32Base64(small)

  it('parses an unsigned trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER) under any fragmentation', async () => {
    const body = encodeAwsChunked(small, {
      chunkSize: 1000,
      trailers: { 'x-amz-checksum-crc32': checksum },
    })
    for (const pieces of [[body], byteByByte(body), randomSplits(body, 9, 7)]) {
      const decoder = createPayloadDecoder(unsignedTrailerMode, {
        decodedContentLength: small.length,
      })
      const data = await decodeAll(decoder, pieces)
      expect(data.equals(small)).toBe(true)
      expect(decoder.trailers).toEqual({ 'x-amz-checksum-crc32': checksum })
    }
  })

  it('parses several trailers, lower-casing names and trimming values', async () => {
    const body = Buffer.from(
      `3\r\nabc\r\n0\r\nX-Amz-Checksum-CRC32: ${crc32Base64(Buffer.from('abc'))} \r\nx-amz-checksum-sha256:xyz\r\n\r\n`,
    )
    const decoder = createPayloadDecoder(unsignedTrailerMode)
    await decodeAll(decoder, [body])
    expect(decoder.trailers).toEqual({
      'x-amz-checksum-crc32': 'NSRBwg==',
      'x-amz-checksum-sha256': 'xyz',
    })
  })

  it('tolerates an unsigned trailer body without the final CRLF', async () => {
    const decoder = createPayloadDecoder(unsignedTrailerMode)
    await decodeAll(decoder, [Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n')])
    expect(decoder.trailers).toEqual({ 'x-amz-checksum-crc32': 'NSRBwg==' })
  })

  it('verifies a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
    const body = encodeAwsChunked(small, {
      signing: docSigning,
      chunkSize: 1000,
      trailers: { 'x-amz-checksum-crc32': checksum },
    })
    for (const pieces of [[body], byteByByte(body)]) {
      const decoder = createPayloadDecoder(signedMode(true), { decodedContentLength: small.length })
      expect((await decodeAll(decoder, pieces)).equals(small)).toBe(true)
      expect(decoder.trailers).toEqual({ 'x-amz-checksum-crc32': checksum })
    }
    const tampered = Buffer.from(body.toString('latin1').replace(checksum, 'AAAAAA=='), 'latin1')
    expect(await code(decodeAll(createPayloadDecoder(signedMode(true)), [tampered]))).toBe(
      'SignatureDoesNotMatch',
    )
    const unsignedTrailer = encodeAwsChunked(small, {
      chunkSize: 1000,
      trailers: { 'x-amz-checksum-crc32': checksum },
    })
    expect(await code(decodeAll(createPayloadDecoder(signedMode(true)), [unsignedTrailer]))).toBe(
      'SignatureDoesNotMatch',
    )
  })

  it('fails with MalformedTrailerError for bad trailer lines', async () => {
    const head = '3\r\nabc\r\n0\r\n'
    const cases: [PayloadMode, string][] = [
      [unsignedTrailerMode, `${head}no-colon\r\n\r\n`],
      [unsignedTrailerMode, `${head}:value\r\n\r\n`],
      [unsignedTrailerMode, `${head}bad name:value\r\n\r\n`],
      [unsignedTrailerMode, `${head}a:1\r\na:2\r\n\r\n`],
      [unsignedTrailerMode, `${head}x-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`],
      [unsignedTrailerMode, `${head}${'x-amz-meta:'.padEnd(17_000, 'v')}\r\n\r\n`],
    ]
    for (const [mode, body] of cases) {
      expect(await code(decodeAll(createPayloadDecoder(mode), [Buffer.from(body)]))).toBe(
        'MalformedTrailerError',
      )
    }
    const signedNoSignature = encodeAwsChunked(Buffer.from('abc'), {
      signing: docSigning,
      trailers: {},
    })
    // An empty trailer section in signed mode lacks x-amz-trailer-signature only if we strip it.
    const stripped = signedNoSignature
      .toString('latin1')
      .replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, '')
    expect(
      await code(
        decodeAll(createPayloadDecoder(signedMode(true)), [Buffer.from(stripped, 'latin1')]),
      ),
    ).toBe('MalformedTrailerError')
  })

  it('refuses trailers when the mode has none', async () => {
    const body = encodeAwsChunked(small, {
      signing: docSigning,
      trailers: { 'x-amz-checksum-crc32': checksum },
    })
    expect(await code(decodeAll(createPayloadDecoder(signedMode(false)), [body]))).toBe(
      'IncompleteBody',
    )
  })
})

describe('verifyWholePayload', () => {
  const sha = createHash('sha256').update(small).digest('hex')

  it('passes an unsigned body and one whose SHA-256 is the signed value (hex in either case)', () => {
    expect(() => verifyWholePayload({ kind: 'unsigned' }, small)).not.toThrow()
    expect(() => verifyWholePayload({ kind: 'sha256', expected: sha }, small)).not.toThrow()
    expect(() =>
      verifyWholePayload({ kind: 'sha256', expected: sha.toUpperCase() }, small),
    ).not.toThrow()
  })

  it('refuses a body whose SHA-256 differs with XAmzContentSHA256Mismatch, as the decoder does', async () => {
    const other = Buffer.from(small)
    other[100] = (other[100] as number) ^ 1
    let thrown: unknown
    try {
      verifyWholePayload({ kind: 'sha256', expected: sha }, other)
    } catch (err) {
      thrown = err
    }
    expect((thrown as { code?: string }).code).toBe('XAmzContentSHA256Mismatch')
    const streamed = createPayloadDecoder({ kind: 'sha256', expected: sha })
    expect(await code(decodeAll(streamed, [other]))).toBe('XAmzContentSHA256Mismatch')
  })

  it('will not take an aws-chunked body, whose framing and chunk signatures need the decoder', () => {
    expect(() => verifyWholePayload(unsignedTrailerMode, small)).toThrow(TypeError)
    expect(() => verifyWholePayload(signedMode(false), small)).toThrow(TypeError)
  })
})
