import { commitment, recordRead } from '../audit.js'
import type { RequestContext } from '../context.js'
import { isoDate, quoteEtag } from '../object-headers.js'
import { sendXml } from '../response.js'
import { encodingOf, maxParam } from './list-params.js'

/** ListObjectVersions: until versioning exists, each object is its one version, id `null`. */
export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') || null
  const maxKeys = maxParam(q, 'max-keys')
  const encode = encodingOf(q)
  const keyMarker = q.get('key-marker') ?? ''
  const versionIdMarker = q.get('version-id-marker') ?? ''
  const page =
    maxKeys === 0
      ? { objects: [], commonPrefixes: [], isTruncated: false, lastReturned: null }
      : await ctx.deps.cell.meta.listObjects(ctx.s3.bucket as string, {
          prefix,
          delimiter,
          after: keyMarker === '' || keyMarker < prefix ? null : keyMarker,
          maxKeys,
        })
  const enc = encode ?? ((s: string) => s)
  const owner = { ID: ctx.tenant.canonicalId, DisplayName: ctx.tenant.name }
  const next = page.isTruncated && page.lastReturned !== null ? page.lastReturned : null
  await recordRead(ctx, {
    type: 'object.list',
    ...(prefix === '' ? {} : { prefix: await commitment(ctx, prefix) }),
    count: page.objects.length,
  })
  sendXml(ctx.res, 200, 'ListVersionsResult', {
    Name: ctx.s3.bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker),
    VersionIdMarker: versionIdMarker,
    NextKeyMarker: next === null ? undefined : enc(next),
    NextVersionIdMarker: next === null ? undefined : 'null',
    MaxKeys: maxKeys,
    Delimiter: delimiter === null ? undefined : enc(delimiter),
    IsTruncated: page.isTruncated,
    EncodingType: encode === null ? undefined : 'url',
    Version: page.objects.map((o) => ({
      Key: enc(o.key),
      VersionId: 'null',
      IsLatest: true,
      LastModified: isoDate(o.lastModified),
      ETag: quoteEtag(o.etag),
      ChecksumAlgorithm: o.checksumAlgorithms.length > 0 ? [...o.checksumAlgorithms] : undefined,
      Size: o.size,
      Owner: owner,
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  })
}
