import { createHash } from 'node:crypto'
import type { ChecksumAlgorithm, ObjectRecord, PartRecord } from '../../meta/index.js'
import { bucketRecordOf } from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import { readSmallBody } from '../body.js'
import { CHECKSUM_ALGORITHMS, checksumElements, checksumHeaders } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead, customerKeyOf, sseResponseHeaders } from '../encryption.js'
import { expirationHeaders } from '../expiration-header.js'
import {
  checkCompletedPart,
  checkCompletion,
  completionAssertionsOf,
  type MultipartChecksum,
  objectChecksumOf,
  type RequestedPartChecksums,
} from '../multipart-checksums.js'
import { quoteEtag, unquoteEtag } from '../object-headers.js'
import { writeLockOf } from '../object-lock.js'
import { sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { tagsCanonical } from '../tags.js'
import { eventVersion, writeVersionOf } from '../versioning.js'
import { childList, childText, parseXml } from '../xml/parse.js'
import { MIN_PART_SIZE, uploadOf } from './multipart.js'
import { removeBlobs, writeConditionOf } from './store-object.js'

interface RequestedPart {
  readonly partNumber: number
  readonly etag: string
  /** The `Checksum<alg>` elements the part carries. */
  readonly checksums: RequestedPartChecksums
}

function requestedParts(body: Buffer): RequestedPart[] {
  const root = parseXml(body).CompleteMultipartUpload
  if (root === undefined) throw S3Errors.malformedXml()
  const parts = childList(root, 'Part').map((p) => {
    const number = childText(p, 'PartNumber')
    const etag = childText(p, 'ETag')
    if (number === undefined || etag === undefined || !/^\d+$/.test(number))
      throw S3Errors.malformedXml()
    const checksums: RequestedPartChecksums = {}
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = childText(p, `Checksum${algorithm}`)
      if (value !== undefined) checksums[algorithm] = value.trim()
    }
    return { partNumber: Number(number), etag: unquoteEtag(etag), checksums }
  })
  if (parts.length === 0) throw new S3Error('InvalidRequest', 'You must specify at least one part')
  for (let i = 1; i < parts.length; i++) {
    if ((parts[i] as RequestedPart).partNumber <= (parts[i - 1] as RequestedPart).partNumber) {
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
      )
    }
  }
  return parts
}

function invalidPart(n: number): S3Error {
  return new S3Error(
    'InvalidPart',
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { PartNumber: String(n) },
  )
}

/**
 * CompleteMultipartUpload: checks the part list (order, ETags, sizes, checksums) and what the
 * headers assert (checksum type, whole-object checksum, object size), makes the object's
 * FULL_OBJECT or COMPOSITE checksum from its parts', then commits the object atomically, each
 * part's checksums kept with it; the parts' blobs become the object's bytes without being copied.
 */
export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const upload = await uploadOf(ctx)
  // SSE-C headers are optional here (as in AWS); when sent they must be the upload's key.
  const customerKey = customerKeyOf(ctx)
  if (customerKey !== null) customerKeyForRead(ctx, upload.encryption)
  const condition = writeConditionOf(ctx)
  // Uploads from before checksum types were kept are COMPOSITE, as they were completed then.
  const mode: MultipartChecksum = {
    algorithm: upload.checksumAlgorithm,
    type: upload.checksumType ?? (upload.checksumAlgorithm === null ? null : 'COMPOSITE'),
  }
  const assertions = completionAssertionsOf(ctx.req.headers, mode)
  const body = await readSmallBody(ctx, 4 * 1024 * 1024)
  const wanted = requestedParts(body)
  const stored = new Map<number, PartRecord>()
  for (const p of await ctx.deps.cell.meta.allParts(upload.uploadId)) stored.set(p.partNumber, p)
  const chosen: PartRecord[] = []
  for (const [i, want] of wanted.entries()) {
    const part = stored.get(want.partNumber)
    if (part === undefined || part.etag !== want.etag) throw invalidPart(want.partNumber)
    if (i < wanted.length - 1 && part.size < MIN_PART_SIZE) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        {
          PartNumber: String(want.partNumber),
          ProposedSize: String(part.size),
          MinSizeAllowed: String(MIN_PART_SIZE),
        },
      )
    }
    checkCompletedPart(mode, want.partNumber, want.checksums, part.checksums, () =>
      invalidPart(want.partNumber),
    )
    chosen.push(part)
  }
  const md5 = createHash('md5')
  for (const p of chosen) md5.update(Buffer.from(p.etag, 'hex'))
  const etag = `${md5.digest('hex')}-${chosen.length}`
  const size = chosen.reduce((a, p) => a + p.size, 0)
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {}
  const { algorithm, type } = mode
  // Parts uploaded before every part got the upload's checksum may lack it: then none is made.
  if (
    algorithm !== null &&
    type !== null &&
    chosen.every((p) => p.checksums[algorithm] !== undefined)
  ) {
    checksums[algorithm] = objectChecksumOf(
      algorithm,
      type,
      chosen.map((p) => ({ checksum: p.checksums[algorithm] as string, size: p.size })),
    )
  }
  const checksumType = Object.keys(checksums).length > 0 ? type : null
  checkCompletion(assertions, { size, checksums })
  const version = await writeVersionOf(ctx, upload.bucket)
  // The lock asked for at creation; without retention, the bucket's default from now.
  const lock = {
    ...writeLockOf({}, await bucketRecordOf(ctx, upload.bucket), ctx.deps.now(), {
      requireIntegrity: false,
    }),
    ...upload.objectLock,
  }
  const record: ObjectRecord = {
    bucket: upload.bucket,
    key: upload.key,
    versionId: version.versionId,
    size,
    etag,
    lastModified: ctx.deps.now(),
    headers: upload.headers,
    userMetadata: upload.userMetadata,
    checksums,
    checksumType,
    partsCount: chosen.length,
    partSizes: chosen.map((p) => p.size),
    // Kept for GetObjectAttributes' ObjectParts and GET ?partNumber.
    partChecksums: checksumType === null ? null : chosen.map((p) => p.checksums),
    encryption: upload.encryption,
    tags: upload.tags ?? [],
    ...(upload.acl === undefined ? {} : { acl: upload.acl }),
    ...lock,
    // Each part stays its own envelope, bound to its part number.
    data: { kind: 'blobs', parts: chosen.map((p) => ({ ...p.blob, partNumber: p.partNumber })) },
  }
  const { orphaned } = await ctx.deps.cell.meta.completeMultipartUpload(
    upload.uploadId,
    record,
    condition,
    await changeEvent(ctx, {
      type: 'multipart.complete',
      key: await commitment(ctx, upload.key),
      ...eventVersion(version.versionId),
      size: record.size,
      parts: chosen.length,
      content: await commitment(ctx, etag),
      ...(record.tags === undefined || record.tags.length === 0
        ? {}
        : { tags: await commitment(ctx, tagsCanonical(record.tags)) }),
    }),
  )
  await removeBlobs(
    ctx,
    orphaned.map((p) => p.ref),
  )
  const location = `${ctx.deps.endpointOf(ctx.deps.cell.dc.id) ?? ''}/${upload.bucket}/${encodeURIComponent(upload.key)}`
  sendXml(
    ctx.res,
    200,
    'CompleteMultipartUploadResult',
    {
      Location: location,
      Bucket: upload.bucket,
      Key: upload.key,
      ETag: quoteEtag(etag),
      ...checksumElements(checksums),
      ...(record.checksumType === null ? {} : { ChecksumType: record.checksumType }),
    },
    {
      ...checksumHeaders(checksums),
      ...(checksumType === null ? {} : { 'x-amz-checksum-type': checksumType }),
      ...sseResponseHeaders(upload.encryption, customerKey),
      ...version.header,
      ...(await expirationHeaders(ctx, record)),
    },
  )
}
