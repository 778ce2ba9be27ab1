import type { RequestContext } from '../context.js'
import { isoDate } from '../object-headers.js'
import { sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'

/** ListBuckets: the tenant's buckets in every data center, each with its region. */
export async function listBuckets(ctx: RequestContext): Promise<void> {
  const q = ctx.s3.query
  const prefix = q.get('prefix') ?? ''
  const region = q.get('bucket-region')
  const token = q.get('continuation-token')
  const maxParam = q.get('max-buckets')
  let max = 10000
  if (maxParam !== null) {
    max = Number(maxParam)
    if (!/^\d+$/.test(maxParam) || max < 1 || max > 10000) {
      throw S3Errors.invalidArgument(
        'max-buckets must be an integer between 1 and 10000',
        'max-buckets',
        maxParam,
      )
    }
  }
  const all = (await ctx.deps.directory.listBuckets(ctx.tenant.id)).filter(
    (b) =>
      b.name.startsWith(prefix) &&
      (region === null || b.dcId === region) &&
      (token === null || b.name > token),
  )
  const page = all.slice(0, max)
  const truncated = all.length > page.length
  sendXml(ctx.res, 200, 'ListAllMyBucketsResult', {
    Owner: { ID: ctx.tenant.canonicalId, DisplayName: ctx.tenant.name },
    Buckets: {
      Bucket: page.map((b) => ({
        Name: b.name,
        CreationDate: isoDate(b.createdAt),
        BucketRegion: b.dcId,
      })),
    },
    ContinuationToken: truncated ? page[page.length - 1]?.name : undefined,
    Prefix: q.has('prefix') ? prefix : undefined,
  })
}
