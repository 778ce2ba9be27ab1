import type { RequestContext } from '../context.js'
import { sendXml } from '../response.js'
import { listPage, objectEntry, ownerOf } from './list-page.js'
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
  const page = await listPage(ctx, {
    prefix,
    delimiter,
    after: keyMarker === '' || keyMarker < prefix ? null : keyMarker,
    maxKeys,
  })
  const enc = encode ?? ((s: string) => s)
  const owner = ownerOf(ctx)
  const next = page.isTruncated && page.lastReturned !== null ? page.lastReturned : null
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
    Version: page.objects.map((o) =>
      objectEntry(o, enc, owner, { VersionId: 'null', IsLatest: true }),
    ),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  })
}
