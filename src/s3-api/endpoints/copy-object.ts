import { bucketRecordOf, objectAclForWrite } from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import { MAX_SINGLE_UPLOAD } from '../body.js'
import { checksumElements } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { sseResponseHeaders, writeEncryptionOf } from '../encryption.js'
import { expirationHeaders } from '../expiration-header.js'
import {
  isoDate,
  quoteEtag,
  storedHeadersOf,
  userMetadataOf,
  validateKey,
} from '../object-headers.js'
import { writeLockOf } from '../object-lock.js'
import { Digest, storeBytes } from '../object-writer.js'
import { sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { taggingOf, tagsCanonical } from '../tags.js'
import { eventVersion, writeVersionOf } from '../versioning.js'
import { resolveCopySource, sourceBytes } from './copy-source.js'
import { commitObject, writeConditionOf } from './store-object.js'

/** CopyObject within this data center: metadata directive COPY or REPLACE, copy-source conditions. */
export async function copyObject(ctx: RequestContext): Promise<void> {
  const key = ctx.s3.key as string
  validateKey(key)
  const source = await resolveCopySource(ctx)
  const directive = String(ctx.req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase()
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw S3Errors.invalidArgument(
      'Unknown metadata directive.',
      'x-amz-metadata-directive',
      directive,
    )
  }
  const tagDirective = String(ctx.req.headers['x-amz-tagging-directive'] ?? 'COPY').toUpperCase()
  if (tagDirective !== 'COPY' && tagDirective !== 'REPLACE') {
    throw S3Errors.invalidArgument(
      'Unknown tagging directive.',
      'x-amz-tagging-directive',
      tagDirective,
    )
  }
  // COPY keeps the source's tags; REPLACE takes x-amz-tagging (none when absent).
  const tags = tagDirective === 'REPLACE' ? taggingOf(ctx.req.headers) : null
  // Copying an object onto itself is allowed when it changes something: metadata or encryption.
  const changesEncryption =
    ctx.req.headers['x-amz-server-side-encryption'] !== undefined ||
    ctx.req.headers['x-amz-server-side-encryption-customer-algorithm'] !== undefined
  // Copying an older version onto its own key is how a version is restored: always allowed.
  if (
    source.versionId === undefined &&
    source.bucket === ctx.s3.bucket &&
    source.key === key &&
    directive === 'COPY' &&
    !changesEncryption
  ) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    )
  }
  if (source.record.size > MAX_SINGLE_UPLOAD) {
    throw new S3Error(
      'InvalidRequest',
      'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
    )
  }
  const condition = writeConditionOf(ctx)
  // The copy gets the request's ACL (never the source's), as S3 does.
  const acl = await objectAclForWrite(ctx)
  const sse = await writeEncryptionOf(ctx)
  const bucket = ctx.s3.bucket as string
  const version = await writeVersionOf(ctx, bucket)
  // The copy is a new version: its lock comes from this request or the bucket, never the source.
  const lock = writeLockOf(ctx.req.headers, await bucketRecordOf(ctx), ctx.deps.now(), {
    requireIntegrity: false,
  })
  const src = source.record
  const algorithms = Object.keys(src.checksums).filter(
    (a) => !String(src.checksums[a as 'CRC32']).includes('-'),
  )
  const digest = new Digest(algorithms as Array<'CRC32'>)
  // Decrypted under the source's binding, re-encrypted under a fresh key for the destination.
  const data = await storeBytes(ctx, await sourceBytes(ctx, source, null), {
    length: src.size,
    digest,
    inline: true,
    seal: { identity: { bucket, key, versionId: null }, provider: sse.provider },
  })
  const { md5, checksums } = digest.finish()
  const replace = directive === 'REPLACE'
  const copiedTags = tags ?? src.tags ?? []
  const event = await changeEvent(ctx, {
    type: 'object.copy',
    key: await commitment(ctx, key),
    sourceBucket: await commitment(ctx, source.bucket),
    sourceKey: await commitment(ctx, source.key),
    size: digest.size,
    ...eventVersion(version.versionId),
    ...(copiedTags.length === 0 ? {} : { tags: await commitment(ctx, tagsCanonical(copiedTags)) }),
  })
  const record = await commitObject(
    ctx,
    { data, size: digest.size, md5: md5.toString('hex'), checksums },
    {
      bucket,
      key,
      versionId: version.versionId,
      etag: md5.toString('hex'),
      lastModified: ctx.deps.now(),
      headers: replace ? storedHeadersOf(ctx.req.headers) : src.headers,
      userMetadata: replace ? userMetadataOf(ctx.req.headers) : src.userMetadata,
      checksums,
      checksumType: Object.keys(checksums).length > 0 ? 'FULL_OBJECT' : null,
      partsCount: null,
      partSizes: null,
      encryption: sse.encryption,
      tags: copiedTags,
      ...(acl === undefined ? {} : { acl }),
      ...lock,
    },
    condition,
    event,
  )
  sendXml(
    ctx.res,
    200,
    'CopyObjectResult',
    {
      LastModified: isoDate(record.lastModified),
      ETag: quoteEtag(record.etag),
      ...checksumElements(record.checksums),
    },
    {
      ...sseResponseHeaders(sse.encryption, sse.customerKey),
      ...version.header,
      ...(await expirationHeaders(ctx, record)),
      ...(src.versionId === null && source.versionId === undefined
        ? {}
        : { 'x-amz-copy-source-version-id': src.versionId ?? 'null' }),
    },
  )
}
