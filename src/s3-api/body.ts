import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import {
  createPayloadDecoder,
  type PayloadDecoder,
  type PayloadMode,
  verifyWholePayload,
} from '../access/index.js'
import type { RequestContext } from './context.js'
import { S3Error } from './s3-error.js'

/** The largest object a single PutObject or UploadPart may carry (AWS: 5 GiB). */
export const MAX_SINGLE_UPLOAD = 5 * 1024 * 1024 * 1024

/** An incoming body: the decoded bytes, their declared length, and the decoder (for trailers). */
export interface IncomingBody {
  readonly stream: Readable
  readonly length: number
  readonly decoder: PayloadDecoder
}

function parseLength(value: string | undefined, header: string): number | null {
  if (value === undefined) return null
  if (!/^\d{1,16}$/.test(value)) throw invalidLength(header, value)
  return Number(value)
}

function invalidLength(header: string, value: string): S3Error {
  return new S3Error('InvalidArgument', `Invalid ${header}: "${value}"`, {
    ArgumentName: header,
    ArgumentValue: value,
  })
}

/** A request body's payload mode and declared length, checked as S3 checks them. */
interface DeclaredBody {
  readonly payload: PayloadMode
  /** aws-chunked: framing to remove, chunk signatures and trailers to check. */
  readonly streaming: boolean
  /** The decoded length the client declared. */
  readonly length: number
}

/**
 * The declared length is required, as S3 requires it (`MissingContentLength`), and at most
 * `maxLength` (`EntityTooLarge`).
 */
function declaredBody(ctx: RequestContext, maxLength: number): DeclaredBody {
  const { req, auth } = ctx
  const payload = auth.kind === 'signed' ? auth.payload : ({ kind: 'unsigned' } as const)
  const streaming = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned'
  const contentLength = parseLength(req.headers['content-length'], 'Content-Length')
  const decoded = parseLength(
    req.headers['x-amz-decoded-content-length'] as string | undefined,
    'x-amz-decoded-content-length',
  )
  const length = streaming ? decoded : contentLength
  if (length === null) {
    if (req.headers['transfer-encoding'] !== undefined && !streaming) {
      throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.')
    }
    if (contentLength === null)
      throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.')
  }
  const size = length ?? contentLength ?? 0
  if (size > maxLength) {
    throw new S3Error(
      'EntityTooLarge',
      'Your proposed upload exceeds the maximum allowed object size.',
      {
        ProposedSize: String(size),
        MaxSizeAllowed: String(maxLength),
      },
    )
  }
  return { payload, streaming, length: size }
}

function incompleteBody(): S3Error {
  return new S3Error('IncompleteBody', 'The request body ended before Content-Length bytes')
}

/**
 * Opens the request body as decoded object bytes: aws-chunked framing removed, chunk signatures
 * and the payload hash verified as the bytes pass. The declared length is required, as S3 requires it.
 */
export function openBody(ctx: RequestContext, maxLength: number): IncomingBody {
  const { req } = ctx
  const { payload, streaming, length } = declaredBody(ctx, maxLength)
  const decoder = createPayloadDecoder(payload, streaming ? { decodedContentLength: length } : {})
  req.on('aborted', () => decoder.destroy(incompleteBody()))
  const stream = req.pipe(decoder)
  return { stream, length, decoder }
}

/**
 * Reads a body of at most `wholeLimit` bytes that is sent whole (not aws-chunked) into one
 * buffer, with no stream, decoder or async iterator between the socket and the caller: a small
 * PUT's body is usually buffered by the time the handler asks for it. It is checked as
 * `openBody` checks it (declared length, the signed SHA-256) and rejects with `IncompleteBody`
 * when the client stops early. Null when the body must be streamed (`openBody`) instead.
 */
export function readWholeBody(
  ctx: RequestContext,
  maxLength: number,
  wholeLimit: number,
): Promise<Buffer> | null {
  const { payload, streaming, length } = declaredBody(ctx, maxLength)
  if (streaming || length > wholeLimit) return null
  return receiveWhole(ctx.req, length).then((body) => {
    verifyWholePayload(payload, body)
    return body
  })
}

/** The body's bytes once it has ended with exactly `length` of them. */
function receiveWhole(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    // Ended or aborted before the handler asked: nothing more will come.
    if (req.readableEnded || req.destroyed) {
      reject(incompleteBody())
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const settle = (err: Error | null) => {
      if (settled) return
      settled = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('aborted', onStop)
      req.off('close', onStop)
      if (err !== null) reject(err)
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= length) chunks.push(chunk)
    }
    const onEnd = () => settle(size === length ? null : incompleteBody())
    // Ended without 'end': the client went away mid-body.
    const onStop = () => settle(incompleteBody())
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('aborted', onStop)
    req.on('close', onStop)
    // A reset connection may also emit 'error' on the request; it is the same early end.
    req.on('error', () => settle(incompleteBody()))
  })
}

/** Reads a small request body (an XML document) whole, verified like any other body. */
export async function readSmallBody(ctx: RequestContext, limit: number): Promise<Buffer> {
  const body = openBody(ctx, limit)
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of body.stream) {
    total += (chunk as Buffer).length
    if (total > limit)
      throw new S3Error('InvalidRequest', `The request body exceeds ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (total !== body.length) {
    throw new S3Error(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    )
  }
  return Buffer.concat(chunks)
}
