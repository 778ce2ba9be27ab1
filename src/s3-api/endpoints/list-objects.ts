import type { RequestContext } from '../context.js'
import { sendXml } from '../response.js'
import { contentsXml, listPage, ownerOf } from './list-page.js'
import { encodingOf, maxParam } from './list-params.js'

/** ListObjects (V1): marker paging; NextMarker is sent whenever the page is truncated. */
export async function listObjects(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') || null
  const maxKeys = maxParam(q, 'max-keys')
  const encode = encodingOf(q)
  const marker = q.get('marker') ?? ''
  const page = await listPage(ctx, {
    prefix,
    delimiter,
    after: marker === '' || marker < prefix ? null : marker,
    maxKeys,
  })
  const enc = encode ?? ((s: string) => s)
  const owner = ownerOf(ctx)
  sendXml(ctx.res, 200, 'ListBucketResult', {
    Name: ctx.s3.bucket,
    Prefix: enc(prefix),
    Marker: enc(marker),
    NextMarker: page.isTruncated && page.lastReturned !== null ? enc(page.lastReturned) : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === null ? undefined : enc(delimiter),
    IsTruncated: page.isTruncated,
    EncodingType: encode === null ? undefined : 'url',
    Contents: contentsXml(page.objects, enc, owner),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  })
}
