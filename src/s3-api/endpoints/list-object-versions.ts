import type { VersionSummary } from '../../meta/index.js'
import { commitment, recordRead } from '../audit.js'
import type { RequestContext } from '../context.js'
import { isoDate, quoteEtag } from '../object-headers.js'
import { sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { checkVersionId } from '../versioning.js'
import { XML_SEQUENCE, type XmlValue } from '../xml/render.js'
import { type ListOwner, ownerOf } from './list-page.js'
import { encodingOf, maxParam } from './list-params.js'

/**
 * ListObjectVersions: every version and delete marker, in key order and newest first within a
 * key, `Version` and `DeleteMarker` elements interleaved as they come; `key-marker` and
 * `version-id-marker` continue a truncated page.
 */
export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') || null
  const maxKeys = maxParam(q, 'max-keys')
  const encode = encodingOf(q)
  const keyMarker = q.get('key-marker') ?? ''
  const versionIdMarker = q.get('version-id-marker') ?? ''
  if (versionIdMarker !== '') {
    if (keyMarker === '') {
      throw S3Errors.invalidArgument(
        'A version-id marker cannot be specified without a key marker.',
        'version-id-marker',
        versionIdMarker,
      )
    }
    checkVersionId(versionIdMarker)
  }
  const page =
    maxKeys === 0
      ? {
          versions: [],
          commonPrefixes: [],
          isTruncated: false,
          nextKeyMarker: null,
          nextVersionIdMarker: null,
        }
      : await ctx.deps.cell.meta.listObjectVersions(ctx.s3.bucket as string, {
          prefix,
          delimiter,
          keyMarker: keyMarker === '' ? null : keyMarker,
          versionIdMarker: versionIdMarker === '' ? null : versionIdMarker,
          maxKeys,
        })
  await recordRead(ctx, {
    type: 'object.list',
    ...(prefix === '' ? {} : { prefix: await commitment(ctx, prefix) }),
    count: page.versions.length,
  })
  const enc = encode ?? ((s: string) => s)
  const owner = ownerOf(ctx)
  const truncated = page.isTruncated
  sendXml(ctx.res, 200, 'ListVersionsResult', {
    Name: ctx.s3.bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker),
    VersionIdMarker: versionIdMarker,
    NextKeyMarker: truncated && page.nextKeyMarker !== null ? enc(page.nextKeyMarker) : undefined,
    NextVersionIdMarker:
      truncated && page.nextVersionIdMarker !== null ? page.nextVersionIdMarker : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === null ? undefined : enc(delimiter),
    IsTruncated: truncated,
    EncodingType: encode === null ? undefined : 'url',
    [XML_SEQUENCE]: page.versions.map((v) => versionEntry(v, enc, owner)),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  })
}

/** One `Version` or `DeleteMarker` element. */
function versionEntry(
  v: VersionSummary,
  enc: (s: string) => string,
  owner: ListOwner,
): { readonly [name: string]: XmlValue } {
  const common = {
    Key: enc(v.key),
    VersionId: v.versionId ?? 'null',
    IsLatest: v.isLatest,
    LastModified: isoDate(v.lastModified),
  }
  if (v.deleteMarker) return { DeleteMarker: { ...common, Owner: owner } }
  return {
    Version: {
      ...common,
      ETag: quoteEtag(v.etag),
      ChecksumAlgorithm: v.checksumAlgorithms.length > 0 ? [...v.checksumAlgorithms] : undefined,
      Size: v.size,
      Owner: owner,
      StorageClass: 'STANDARD',
    },
  }
}
