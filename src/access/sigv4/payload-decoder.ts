import { createHash, type Hash } from 'node:crypto'
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
