import { SovraError } from '../core/index.js'

/** Codes a BlobStore raises. */
export const BLOB_ERROR_CODES = [
  'NotFound',
  'WriteFailed',
  'SourceFailed',
  'Aborted',
  'StoreClosed',
] as const
/** One of `BLOB_ERROR_CODES`. */
export type BlobErrorCode = (typeof BLOB_ERROR_CODES)[number]

/** The one error class a BlobStore raises; `code` is one of `BLOB_ERROR_CODES`. */
export class BlobError extends SovraError<BlobErrorCode> {
  constructor(
    code: BlobErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('blob', code, message, options)
  }
}

/** Factory table for every BlobError. */
export const BlobErrors = {
  notFound: (ref: string, cause?: unknown) =>
    new BlobError('NotFound', `Cannot read blob "${ref}": it does not exist`, {
      cause,
      details: { ref },
    }),
  discarded: (ref: string) =>
    new BlobError('NotFound', `Cannot commit blob "${ref}": it was discarded`, {
      details: { ref },
    }),
  writeFailed: (ref: string, cause: unknown) =>
    new BlobError('WriteFailed', `Cannot write blob "${ref}": ${describe(cause)}`, {
      cause,
      details: { ref },
    }),
  sourceFailed: (ref: string, cause: unknown) =>
    new BlobError(
      'SourceFailed',
      `Cannot write blob "${ref}": the source failed: ${describe(cause)}`,
      {
        cause,
        details: { ref },
      },
    ),
  aborted: (ref: string, cause?: unknown) =>
    new BlobError('Aborted', `Cannot write blob "${ref}": the write was aborted`, {
      cause,
      details: { ref },
    }),
  storeClosed: () => new BlobError('StoreClosed', 'Cannot use the blob store: it is closed'),
} as const

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}
