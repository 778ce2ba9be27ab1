import { bucketRecordOf, objectAclForWrite } from '../access-control.js'
import type { RequestContext } from '../context.js'
import { sseResponseHeaders, writeEncryptionOf } from '../encryption.js'
import { multipartChecksumOf } from '../multipart-checksums.js'
import { storedHeadersOf, userMetadataOf, validateKey } from '../object-headers.js'
import { writeLockOf } from '../object-lock.js'
import { sendXml } from '../response.js'
import { taggingOf } from '../tags.js'
import { newUploadId } from './multipart.js'

/**
 * CreateMultipartUpload: records the upload with the object's future headers and checksum
 * settings (algorithm and FULL_OBJECT or COMPOSITE type, see multipart-checksums.ts) and its
 * Object Lock headers (applied at completion).
 */
export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const key = ctx.s3.key as string
  validateKey(key)
  const h = ctx.req.headers
  const { algorithm: checksumAlgorithm, type: checksumType } = multipartChecksumOf(h)
  const tags = taggingOf(h)
  const acl = await objectAclForWrite(ctx)
  const sse = await writeEncryptionOf(ctx)
  // Explicit lock headers are kept with the upload; the bucket's default applies at completion.
  const objectLock = writeLockOf(h, await bucketRecordOf(ctx), ctx.deps.now(), {
    requireIntegrity: false,
    withDefault: false,
  })
  const uploadId = newUploadId()
  await ctx.deps.cell.meta.createMultipartUpload({
    uploadId,
    bucket: ctx.s3.bucket as string,
    key,
    initiated: ctx.deps.now(),
    tenantId: ctx.tenant.id,
    headers: storedHeadersOf(h),
    userMetadata: userMetadataOf(h),
    checksumAlgorithm,
    checksumType,
    encryption: sse.encryption,
    tags,
    ...(acl === undefined ? {} : { acl }),
    ...(Object.keys(objectLock).length === 0 ? {} : { objectLock }),
  })
  const headers: Record<string, string> = sseResponseHeaders(sse.encryption, sse.customerKey)
  if (checksumAlgorithm !== null) headers['x-amz-checksum-algorithm'] = checksumAlgorithm
  if (checksumType !== null) headers['x-amz-checksum-type'] = checksumType
  sendXml(
    ctx.res,
    200,
    'InitiateMultipartUploadResult',
    { Bucket: ctx.s3.bucket, Key: key, UploadId: uploadId },
    headers,
  )
}
