import { objectAclForWrite } from '../access-control.js'
import { parseChecksumAlgorithm } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { sseResponseHeaders, writeEncryptionOf } from '../encryption.js'
import { storedHeadersOf, userMetadataOf, validateKey } from '../object-headers.js'
import { sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { taggingOf } from '../tags.js'
import { newUploadId } from './multipart.js'

/** CreateMultipartUpload: records the upload with the object's future headers and checksum settings. */
export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const key = ctx.s3.key as string
  validateKey(key)
  const h = ctx.req.headers
  const algorithmHeader = h['x-amz-checksum-algorithm']
  const checksumAlgorithm =
    typeof algorithmHeader === 'string' ? parseChecksumAlgorithm(algorithmHeader) : null
  const typeHeader = h['x-amz-checksum-type']
  let checksumType: 'FULL_OBJECT' | 'COMPOSITE' | null = null
  if (typeof typeHeader === 'string') {
    const t = typeHeader.toUpperCase()
    if (t !== 'FULL_OBJECT' && t !== 'COMPOSITE')
      throw S3Errors.invalidArgument('Invalid checksum type', 'x-amz-checksum-type', typeHeader)
    if (t === 'FULL_OBJECT')
      throw S3Errors.notImplemented('x-amz-checksum-type FULL_OBJECT on multipart uploads')
    checksumType = t
  }
  if (checksumAlgorithm !== null && checksumType === null) checksumType = 'COMPOSITE'
  const tags = taggingOf(h)
  const acl = await objectAclForWrite(ctx)
  const sse = await writeEncryptionOf(ctx)
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
