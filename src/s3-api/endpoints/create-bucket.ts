import { changeEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'
import { S3Error } from '../s3-error.js'
import { childText, parseXml } from '../xml/parse.js'
import { validateBucketName } from './bucket-name.js'

/**
 * CreateBucket: the bucket lives in this endpoint's data center. A LocationConstraint naming any
 * other data center is refused; the name is reserved globally in the directory first.
 */
export async function createBucket(ctx: RequestContext): Promise<void> {
  const name = ctx.s3.bucket as string
  validateBucketName(name)
  const dc = ctx.deps.cell.dc
  const body = await readSmallBody(ctx, 64 * 1024)
  if (body.length > 0) {
    const doc = parseXml(body)
    const config = doc.CreateBucketConfiguration
    if (config === undefined)
      throw new S3Error(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema',
      )
    const location = childText(config, 'LocationConstraint')
    if (location !== undefined && location !== '' && location !== dc.id) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The "${location}" location constraint is incompatible for the data center specific endpoint this request was sent to: "${dc.id}"`,
      )
    }
  }
  if (ctx.deps.dcStatus() !== 'active') {
    throw new S3Error(
      'IllegalLocationConstraintException',
      `Data center "${dc.id}" does not accept new buckets: it is ${ctx.deps.dcStatus()}`,
    )
  }
  if (ctx.bucket !== null) {
    throw ctx.bucket.tenantId === ctx.tenant.id
      ? new S3Error(
          'BucketAlreadyOwnedByYou',
          'Your previous request to create the named bucket succeeded and you already own it.',
          { BucketName: name },
        )
      : new S3Error(
          'BucketAlreadyExists',
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
          { BucketName: name },
        )
  }
  await ctx.deps.directory.reserveBucket({ name, tenantId: ctx.tenant.id, dcId: dc.id })
  try {
    await ctx.deps.cell.meta.createBucket(
      { name, tenantId: ctx.tenant.id, createdAt: ctx.deps.now() },
      await changeEvent(ctx, { type: 'bucket.create' }, name),
    )
  } catch (err) {
    await ctx.deps.directory.releaseBucket(name)
    throw err
  }
  ctx.log.info({ bucket: name }, 'Bucket created')
  sendEmpty(ctx.res, 200, { location: `/${name}` })
}
