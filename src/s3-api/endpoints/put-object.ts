import { canonicalize } from '../../core/index.js'
import type { Tag, WriteOptions } from '../../meta/index.js'
import { bucketRecordOf, objectAclForWrite } from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import { MAX_SINGLE_UPLOAD } from '../body.js'
import { checksumHeaders } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { sseResponseHeaders, writeEncryptionOf } from '../encryption.js'
import { expirationHeaders } from '../expiration-header.js'
import { quoteEtag, storedHeadersOf, userMetadataOf, validateKey } from '../object-headers.js'
import { writeLockOf } from '../object-lock.js'
import { receiveObject } from '../object-writer.js'
import { sendEmpty } from '../response.js'
import { taggingOf, tagsCanonical } from '../tags.js'
import { eventVersion, writeVersionOf } from '../versioning.js'
import { commitObject, writeConditionOf } from './store-object.js'

/** PutObject: streams, verifies, makes durable, then commits the metadata (and only then answers). */
export async function putObject(ctx: RequestContext): Promise<void> {
  const key = ctx.s3.key as string
  validateKey(key)
  const headers = storedHeadersOf(ctx.req.headers)
  const userMetadata = userMetadataOf(ctx.req.headers)
  const tags = taggingOf(ctx.req.headers)
  const acl = await objectAclForWrite(ctx)
  const condition = writeConditionOf(ctx)
  const bucket = ctx.s3.bucket as string
  const sse = await writeEncryptionOf(ctx)
  const version = await writeVersionOf(ctx, bucket)
  const lock = writeLockOf(ctx.req.headers, await bucketRecordOf(ctx), ctx.deps.now(), {
    requireIntegrity: true,
  })
  const received = await receiveObject(ctx, {
    maxLength: MAX_SINGLE_UPLOAD,
    inline: true,
    seal: { identity: { bucket, key, versionId: null }, provider: sse.provider },
  })
  const event = await objectPutEvent(ctx, {
    key,
    size: received.size,
    md5: received.md5,
    userMetadata,
    tags,
    versionId: version.versionId,
  })
  const record = await commitObject(
    ctx,
    received,
    {
      bucket,
      key,
      versionId: version.versionId,
      etag: received.md5,
      lastModified: ctx.deps.now(),
      headers,
      userMetadata,
      checksums: received.checksums,
      checksumType: Object.keys(received.checksums).length > 0 ? 'FULL_OBJECT' : null,
      partsCount: null,
      partSizes: null,
      encryption: sse.encryption,
      tags,
      ...(acl === undefined ? {} : { acl }),
      ...lock,
    },
    condition,
    event,
  )
  const out: Record<string, string> = {
    etag: quoteEtag(record.etag),
    ...checksumHeaders(record.checksums),
    ...sseResponseHeaders(sse.encryption, sse.customerKey),
    ...version.header,
    ...(await expirationHeaders(ctx, record)),
  }
  if (Object.keys(record.checksums).length > 0) out['x-amz-checksum-type'] = 'FULL_OBJECT'
  sendEmpty(ctx.res, 200, out)
}

/**
 * The `object.put` event of a new object (PutObject, POST Object), committed with its write:
 * commitments to the key, content ETag, user metadata and tags, never their text.
 */
export async function objectPutEvent(
  ctx: RequestContext,
  object: {
    readonly key: string
    readonly size: number
    readonly md5: string
    readonly userMetadata: Record<string, string>
    readonly tags: readonly Tag[]
    /** The new version's id (null: the `null` version, not logged). */
    readonly versionId: string | null
  },
): Promise<WriteOptions> {
  const { key, size, md5, userMetadata, tags } = object
  return changeEvent(ctx, {
    type: 'object.put',
    key: await commitment(ctx, key),
    ...eventVersion(object.versionId),
    size,
    content: await commitment(ctx, md5),
    ...(Object.keys(userMetadata).length === 0
      ? {}
      : { metadata: await commitment(ctx, canonicalize(userMetadata)) }),
    ...(tags.length === 0 ? {} : { tags: await commitment(ctx, tagsCanonical(tags)) }),
  })
}
