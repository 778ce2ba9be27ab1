import { createHash, type Hash, hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { AwsChunkedDecoder } from './aws-chunked.js'
import { SigV4Errors } from './sigv4-error.js'
import type { PayloadDecoder, PayloadMode } from './sigv4-types.js'

/** Options for `createPayloadDecoder`. */
export interface PayloadDecoderOptions {
  /** `x-amz-decoded-content-length` (aws-chunked bodies only). */
  readonly decodedContentLength?: number | undefined
}

const NO_TRAILERS: Readonly<Record<string, string>> = Object.freeze({})

/** Passes the body through unchanged. */
class PassThroughDecoder extends Transform implements PayloadDecoder {
  readonly trailers = NO_TRAILERS

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk)
  }
}

/** Passes the body through while hashing it, and fails at the end when the hash differs. */
class Sha256Decoder extends Transform implements PayloadDecoder {
  readonly trailers = NO_TRAILERS
  readonly #expected: string
  readonly #hash: Hash = createHash('sha256')

  constructor(expected: string) {
    super()
    this.#expected = expected.toLowerCase()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk)
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.#hash.digest('hex')
    callback(
      actual === this.#expected ? null : SigV4Errors.contentSha256Mismatch(this.#expected, actual),
    )
  }
}

/** A Transform that turns the raw request body into the object's bytes, verifying as it goes. */
export function createPayloadDecoder(
  mode: PayloadMode,
  options: PayloadDecoderOptions = {},
): PayloadDecoder {
  switch (mode.kind) {
    case 'unsigned':
      return new PassThroughDecoder()
    case 'sha256':
      return new Sha256Decoder(mode.expected)
    case 'streaming-unsigned':
      return new AwsChunkedDecoder({
        trailer: mode.trailer,
        decodedContentLength: options.decodedContentLength,
      })
    case 'streaming-signed':
      return new AwsChunkedDecoder({
        signing: {
          signingKey: mode.signingKey,
          seedSignature: mode.seedSignature,
          amzDate: mode.amzDate,
          scope: mode.scope,
        },
        trailer: mode.trailer,
        decodedContentLength: options.decodedContentLength,
      })
  }
}

/**
 * Checks a body received whole (not aws-chunked) against its payload mode, as the decoder checks
 * it while streaming: an `unsigned` body passes, a `sha256` one must hash to the signed value
 * (`XAmzContentSHA256Mismatch`). An aws-chunked mode is a programming error here: its framing and
 * chunk signatures need the decoder.
 */
export function verifyWholePayload(mode: PayloadMode, body: Buffer): void {
  switch (mode.kind) {
    case 'unsigned':
      return
    case 'sha256': {
      const expected = mode.expected.toLowerCase()
      const actual = hash('sha256', body, 'hex')
      if (actual !== expected) throw SigV4Errors.contentSha256Mismatch(expected, actual)
      return
    }
    case 'streaming-signed':
    case 'streaming-unsigned':
      throw new TypeError(`Cannot verify a "${mode.kind}" body whole: it must be decoded`)
  }
}
