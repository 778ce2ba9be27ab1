import { commitment, recordRead } from '../audit.js'
import type { RequestContext } from '../context.js'
import { isoDate, quoteEtag } from '../object-headers.js'
import { sendXml } from '../response.js'
import { encodingOf, maxParam } from './list-params.js'

/** ListObjects (V1): marker paging; NextMarker is sent whenever the page is truncated. */
export async function listObjects(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') || null
  const maxKeys = maxParam(q, 'max-keys')
  const encode = encodingOf(q)
  const marker = q.get('marker') ?? ''
  const page =
    maxKeys === 0
      ? { objects: [], commonPrefixes: [], isTruncated: false, lastReturned: null }
      : await ctx.deps.cell.meta.listObjects(ctx.s3.bucket as string, {
          prefix,
          delimiter,
          after: marker === '' || marker < prefix ? null : marker,
          maxKeys,
        })
  const enc = encode ?? ((s: string) => s)
  const owner = { ID: ctx.tenant.canonicalId, DisplayName: ctx.tenant.name }
  await recordRead(ctx, {
    type: 'object.list',
    ...(prefix === '' ? {} : { prefix: await commitment(ctx, prefix) }),
    count: page.objects.length,
  })
  sendXml(ctx.res, 200, 'ListBucketResult', {
    Name: ctx.s3.bucket,
    Prefix: enc(prefix),
    Marker: enc(marker),
    NextMarker: page.isTruncated && page.lastReturned !== null ? enc(page.lastReturned) : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === null ? undefined : enc(delimiter),
    IsTruncated: page.isTruncated,
    EncodingType: encode === null ? undefined : 'url',
    Contents: page.objects.map((o) => ({
      Key: enc(o.key),
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
