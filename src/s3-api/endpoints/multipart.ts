import { randomBytes } from 'node:crypto'
import type { ChecksumAlgorithm, MultipartUploadRecord } from '../../meta/index.js'
import type { RequestContext } from '../context.js'
import type { ReceivedData } from '../object-writer.js'
import { S3Errors } from '../s3-error.js'
import { removeBlobs } from './store-object.js'

/** The smallest size of every part but the last (5 MiB). */
export const MIN_PART_SIZE = 5 * 1024 * 1024

/** A new upload id: 32 random bytes, URL-safe. */
export function newUploadId(): string {
  return randomBytes(32).toString('base64url')
}

/** The upload named by `uploadId`, which must belong to this bucket and key; `NoSuchUpload` otherwise. */
export async function uploadOf(ctx: RequestContext): Promise<MultipartUploadRecord> {
  const uploadId = ctx.s3.query.get('uploadId') ?? ''
  const upload = await ctx.deps.cell.meta.getMultipartUpload(ctx.s3.bucket as string, uploadId)
  if (upload === null || upload.key !== ctx.s3.key) throw S3Errors.noSuchUpload(uploadId)
  return upload
}

/** Reads `partNumber`: an integer 1..10000. */
export function partNumberOf(ctx: RequestContext): number {
  const raw = ctx.s3.query.get('partNumber') ?? ''
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < 1 || n > 10000) {
    throw S3Errors.invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      raw,
    )
  }
  return n
}

/**
 * Makes a received part durable and records it: the blob is renamed into place, then the part
 * row commits (replacing an earlier part of the same number, whose blob goes). If the upload went
 * away meanwhile, the new blob is removed and the error stands.
 */
export async function recordPart(
  ctx: RequestContext,
  part: {
    readonly uploadId: string
    readonly partNumber: number
    readonly data: ReceivedData
    readonly size: number
    readonly md5: string
    readonly checksums: Partial<Record<ChecksumAlgorithm, string>>
    readonly lastModified: number
  },
): Promise<void> {
  if (part.data.kind !== 'pending') throw new Error('Part bodies are always written to blobs')
  const pending = part.data.pending
  await pending.commit()
  try {
    const { orphaned } = await ctx.deps.cell.meta.putPart({
      uploadId: part.uploadId,
      partNumber: part.partNumber,
      size: part.size,
      etag: part.md5,
      lastModified: part.lastModified,
      checksums: part.checksums,
      blob: { ref: pending.ref, size: part.size, wrappedKey: part.data.wrappedKey },
    })
    await removeBlobs(
      ctx,
      orphaned.map((p) => p.ref),
    )
  } catch (err) {
    await removeBlobs(ctx, [pending.ref])
    throw err
  }
}
