import type { RequestContext } from '../context.js'
import { sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { contentsXml, listPage, ownerOf } from './list-page.js'
import { encodingOf, maxParam } from './list-params.js'

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8')
  if (!text.startsWith('v1:'))
    throw S3Errors.invalidArgument(
      'The continuation token provided is incorrect',
      'continuation-token',
      token,
    )
  return text.slice(3)
}

function encodeToken(after: string): string {
  return Buffer.from(`v1:${after}`, 'utf8').toString('base64url')
}

/** ListObjectsV2: prefix, delimiter, continuation tokens, start-after, encoding-type, fetch-owner. */
export async function listObjectsV2(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') || null
  const maxKeys = maxParam(q, 'max-keys')
  const encode = encodingOf(q)
  const token = q.get('continuation-token')
  const startAfter = q.get('start-after')
  let after = token !== null ? decodeToken(token) : startAfter
  if (after !== null && after < prefix && prefix !== '') after = null
  const page = await listPage(ctx, {
    prefix,
    delimiter,
    after,
    maxKeys,
  })
  const enc = encode ?? ((s: string) => s)
  const owner = q.get('fetch-owner') === 'true' ? ownerOf(ctx) : undefined
  sendXml(ctx.res, 200, 'ListBucketResult', {
    Name: ctx.s3.bucket,
    Prefix: enc(prefix),
    Delimiter: delimiter === null ? undefined : enc(delimiter),
    MaxKeys: maxKeys,
    KeyCount: page.objects.length + page.commonPrefixes.length,
    IsTruncated: page.isTruncated,
    EncodingType: encode === null ? undefined : 'url',
    ContinuationToken: token ?? undefined,
    NextContinuationToken:
      page.isTruncated && page.lastReturned !== null ? encodeToken(page.lastReturned) : undefined,
    StartAfter: startAfter === null ? undefined : enc(startAfter),
    Contents: contentsXml(page.objects, enc, owner),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  })
}
