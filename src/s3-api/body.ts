import type { Readable } from 'node:stream'
import { createPayloadDecoder, type PayloadDecoder } from '../access/index.js'
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

/**
 * Opens the request body as decoded object bytes: aws-chunked framing removed, chunk signatures
 * and the payload hash verified as the bytes pass. The declared length is required, as S3 requires it.
 */
export function openBody(ctx: RequestContext, maxLength: number): IncomingBody {
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
  const decoder = createPayloadDecoder(payload, streaming ? { decodedContentLength: size } : {})
  req.on('aborted', () =>
    decoder.destroy(
      new S3Error('IncompleteBody', 'The request body ended before Content-Length bytes'),
    ),
  )
  const stream = req.pipe(decoder)
  return { stream, length: size, decoder }
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
