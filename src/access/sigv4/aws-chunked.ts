import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { EMPTY_SHA256, sha256Hex, signaturesEqual, signString } from './canonical-request.js'
import { type SigV4Error, SigV4Errors } from './sigv4-error.js'
import type { PayloadDecoder } from './sigv4-types.js'

/** Longest chunk header line accepted (`hex-size;chunk-signature=…`), in bytes. */
export const MAX_CHUNK_HEADER_BYTES = 4096
/** Most trailer bytes accepted in total. */
export const MAX_TRAILER_BYTES = 16_384

/** The seed of a signed chunk chain: the request's signature and what it was made with. */
export interface ChunkSigning {
  readonly signingKey: Buffer
  readonly seedSignature: string
  readonly amzDate: string
  readonly scope: string
}

/** How an aws-chunked body is framed and checked. */
export interface AwsChunkedOptions {
  /** Present for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: every chunk must be signed. */
  readonly signing?: ChunkSigning | undefined
  /** Whether trailer lines follow the final chunk. */
  readonly trailer: boolean
  /** `x-amz-decoded-content-length`, when the client sent it. */
  readonly decodedContentLength?: number | undefined
}

type Phase = 'chunk-header' | 'chunk-data' | 'chunk-end' | 'final-end' | 'trailer' | 'done'

const PHASE_NAMES: Record<Phase, string> = {
  'chunk-header': 'in a chunk header',
  'chunk-data': 'in chunk data',
  'chunk-end': 'after chunk data',
  'final-end': 'after the final chunk',
  trailer: 'in the trailers',
  done: 'after the end',
}
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/
const SIZE = /^[0-9a-fA-F]{1,13}$/
const TRAILER_SIGNATURE = 'x-amz-trailer-signature'

function excerpt(text: string): string {
  return text.length > 32 ? `${text.slice(0, 32)}…` : text
}

// Data passes downstream as it arrives and each chunk's signature is checked at the chunk's end,
// so consumers must commit only after the stream ends without error. At most one header or
// trailer line is buffered.
/** Streaming decoder for `aws-chunked` bodies (signed or unsigned, with or without trailers). */
export class AwsChunkedDecoder extends Transform implements PayloadDecoder {
  readonly #signing: ChunkSigning | undefined
  readonly #trailer: boolean
  readonly #decodedContentLength: number | undefined
  #phase: Phase = 'chunk-header'
  #line: Buffer[] = []
  #lineLength = 0
  #remaining = 0
  #decoded = 0
  #chunkIndex = 0
  #chunkSignature = ''
  #chunkHash: Hash | undefined
  #previousSignature: string
  readonly #trailers: Record<string, string> = Object.create(null) as Record<string, string>
  #canonicalTrailers = ''
  #trailerBytes = 0
  #trailerSignatureSeen = false

  constructor(options: AwsChunkedOptions) {
    super()
    this.#signing = options.signing
    this.#trailer = options.trailer
    this.#decodedContentLength = options.decodedContentLength
    this.#previousSignature = options.signing?.seedSignature ?? ''
  }

  /** Trailing headers (lower-case names); complete once the stream has ended. */
  get trailers(): Readonly<Record<string, string>> {
    return this.#trailers
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk)
      callback()
    } catch (err) {
      callback(err as SigV4Error)
    }
  }

  override _flush(callback: TransformCallback): void {
    const cleanEnd =
      this.#phase === 'done' ||
      // Tolerate a body that stops right after a complete trailer line, without the final CRLF.
      (this.#phase === 'trailer' &&
        this.#lineLength === 0 &&
        (this.#signing === undefined || this.#trailerSignatureSeen))
    if (!cleanEnd) {
      callback(SigV4Errors.incompleteBody(`the body ended ${PHASE_NAMES[this.#phase]}`))
      return
    }
    if (this.#decodedContentLength !== undefined && this.#decoded !== this.#decodedContentLength) {
      callback(SigV4Errors.decodedLengthMismatch(this.#decodedContentLength, this.#decoded))
      return
    }
    Object.freeze(this.#trailers)
    callback()
  }

  #consume(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#phase === 'chunk-data') {
        const n = Math.min(this.#remaining, chunk.length - offset)
        const data = chunk.subarray(offset, offset + n)
        offset += n
        this.#remaining -= n
        this.#decoded += n
        this.#chunkHash?.update(data)
        if (
          this.#decodedContentLength !== undefined &&
          this.#decoded > this.#decodedContentLength
        ) {
          throw SigV4Errors.decodedLengthMismatch(this.#decodedContentLength, this.#decoded)
        }
        this.push(data)
        if (this.#remaining === 0) this.#phase = 'chunk-end'
        continue
      }
      if (this.#phase === 'done') {
        throw SigV4Errors.incompleteBody('unexpected bytes follow the final chunk')
      }
      const lf = chunk.indexOf(10, offset)
      const end = lf === -1 ? chunk.length : lf
      if (end > offset) {
        this.#lineLength += end - offset
        if (this.#lineLength > this.#lineLimit()) this.#lineTooLong()
        this.#line.push(Buffer.from(chunk.subarray(offset, end)))
      }
      if (lf === -1) return
      offset = lf + 1
      const line = this.#line.length === 1 ? (this.#line[0] as Buffer) : Buffer.concat(this.#line)
      this.#line = []
      this.#lineLength = 0
      if (line.length === 0 || line[line.length - 1] !== 13) {
        throw SigV4Errors.incompleteBody(
          `a line ${PHASE_NAMES[this.#phase]} does not end with CRLF`,
        )
      }
      this.#onLine(line.subarray(0, line.length - 1))
    }
  }

  #lineLimit(): number {
    switch (this.#phase) {
      case 'chunk-header':
        return MAX_CHUNK_HEADER_BYTES
      case 'trailer':
        return MAX_TRAILER_BYTES - this.#trailerBytes
      default:
        return 1 // only the CR of the CRLF that closes a chunk or the body
    }
  }

  #lineTooLong(): never {
    switch (this.#phase) {
      case 'chunk-header':
        throw SigV4Errors.invalidChunkSize(
          `the chunk header exceeds '${MAX_CHUNK_HEADER_BYTES}' bytes`,
        )
      case 'trailer':
        throw SigV4Errors.malformedTrailer(`the trailers exceed '${MAX_TRAILER_BYTES}' bytes`)
      case 'chunk-end':
        throw SigV4Errors.incompleteBody(
          `chunk '${this.#chunkIndex}' is longer than its declared size`,
        )
      default:
        throw SigV4Errors.incompleteBody('unexpected bytes follow the final chunk')
    }
  }

  #onLine(line: Buffer): void {
    switch (this.#phase) {
      case 'chunk-header':
        this.#onChunkHeader(line.toString('latin1'))
        return
      case 'chunk-end':
        this.#verifyChunk(this.#chunkHash?.digest('hex') ?? '')
        this.#chunkHash = undefined
        this.#phase = 'chunk-header'
        return
      case 'final-end':
        this.#phase = 'done'
        return
      case 'trailer':
        this.#onTrailer(line.toString('utf8'))
        return
      default:
        return
    }
  }

  #onChunkHeader(text: string): void {
    const semi = text.indexOf(';')
    const sizeText = semi === -1 ? text : text.slice(0, semi)
    if (!SIZE.test(sizeText)) {
      throw SigV4Errors.invalidChunkSize(`'${excerpt(sizeText)}' is not a hexadecimal chunk size`)
    }
    const size = Number.parseInt(sizeText, 16)
    this.#chunkSignature = ''
    if (semi !== -1) {
      for (const ext of text.slice(semi + 1).split(';')) {
        const eq = ext.indexOf('=')
        if (eq !== -1 && ext.slice(0, eq).trim() === 'chunk-signature') {
          this.#chunkSignature = ext.slice(eq + 1).trim()
        }
      }
    }
    if (this.#signing !== undefined && this.#chunkSignature === '') {
      throw SigV4Errors.chunkSignatureDoesNotMatch(this.#chunkIndex)
    }
    if (size > 0) {
      this.#remaining = size
      if (this.#signing !== undefined) this.#chunkHash = createHash('sha256')
      this.#phase = 'chunk-data'
      return
    }
    this.#verifyChunk(EMPTY_SHA256)
    this.#phase = this.#trailer ? 'trailer' : 'final-end'
  }

  #verifyChunk(dataHash: string): void {
    const signing = this.#signing
    const index = this.#chunkIndex
    this.#chunkIndex += 1
    if (signing === undefined) return
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${this.#previousSignature}\n${EMPTY_SHA256}\n${dataHash}`
    const expected = signString(signing.signingKey, toSign)
    if (!signaturesEqual(expected, this.#chunkSignature)) {
      throw SigV4Errors.chunkSignatureDoesNotMatch(index)
    }
    this.#previousSignature = expected
  }

  #onTrailer(text: string): void {
    if (text === '') {
      if (this.#signing !== undefined && !this.#trailerSignatureSeen) {
        throw SigV4Errors.malformedTrailer(`'${TRAILER_SIGNATURE}' is missing`)
      }
      this.#phase = 'done'
      return
    }
    this.#trailerBytes += text.length + 2
    if (this.#trailerSignatureSeen) {
      throw SigV4Errors.malformedTrailer(`a trailer follows '${TRAILER_SIGNATURE}'`)
    }
    const colon = text.indexOf(':')
    const name = colon <= 0 ? '' : text.slice(0, colon).trim().toLowerCase()
    if (!TOKEN.test(name)) {
      throw SigV4Errors.malformedTrailer(`'${excerpt(text)}' is not a 'name:value' line`)
    }
    const value = text.slice(colon + 1).trim()
    if (name === TRAILER_SIGNATURE) {
      const signing = this.#signing
      if (signing === undefined) {
        throw SigV4Errors.malformedTrailer(
          `'${TRAILER_SIGNATURE}' is not allowed in an unsigned payload`,
        )
      }
      const toSign = `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${this.#previousSignature}\n${sha256Hex(this.#canonicalTrailers)}`
      if (!signaturesEqual(signString(signing.signingKey, toSign), value)) {
        throw SigV4Errors.trailerSignatureDoesNotMatch()
      }
      this.#trailerSignatureSeen = true
      return
    }
    if (Object.hasOwn(this.#trailers, name)) {
      throw SigV4Errors.malformedTrailer(`the trailer '${name}' is repeated`)
    }
    this.#trailers[name] = value
    this.#canonicalTrailers += `${name}:${value}\n`
  }
}
