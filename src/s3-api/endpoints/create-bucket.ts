import { isOwnerOnlyAcl, isPublicAcl } from '../../access/index.js'
import { requestedAcl } from '../access-control.js'
import { changeEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { childText, parseXml } from '../xml/parse.js'
import { validateBucketName } from './bucket-name.js'
import { invalidAclWithOwnership, objectOwnershipOf } from './bucket-ownership.js'
import { BLOCK_ALL } from './public-access-block.js'

/** `x-amz-bucket-object-lock-enabled`: `true` enables Object Lock (and versioning). */
function objectLockHeaderOf(value: string | string[] | undefined): boolean {
  if (value === undefined) return false
  const text = String(value).toLowerCase()
  if (text !== 'true' && text !== 'false') {
    throw S3Errors.invalidArgument(
      'Invalid x-amz-bucket-object-lock-enabled header value',
      'x-amz-bucket-object-lock-enabled',
      String(value),
    )
  }
  return text === 'true'
}

/**
 * CreateBucket: the bucket lives in this endpoint's data center. A LocationConstraint naming any
 * other data center is refused; the name is reserved globally in the directory first. As on AWS
 * today, a new bucket has Object Ownership BucketOwnerEnforced (ACLs disabled) unless
 * `x-amz-object-ownership` says otherwise, and all public access blocked.
 * `x-amz-bucket-object-lock-enabled: true` enables Object Lock and versioning.
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
  const ownershipHeader = ctx.req.headers['x-amz-object-ownership']
  const ownership =
    ownershipHeader === undefined
      ? 'BucketOwnerEnforced'
      : objectOwnershipOf(String(ownershipHeader), 'x-amz-object-ownership')
  const objectLock = objectLockHeaderOf(ctx.req.headers['x-amz-bucket-object-lock-enabled'])
  const owner = ctx.tenant.canonicalId
  const acl = requestedAcl(ctx.req.headers, { owner, bucketOwner: owner })?.acl ?? null
  if (acl !== null && !isOwnerOnlyAcl(acl)) {
    if (ownership === 'BucketOwnerEnforced') throw invalidAclWithOwnership()
    // The new bucket blocks public ACLs, as every new AWS bucket does.
    if (isPublicAcl(acl)) throw new S3Error('AccessDenied', 'Access Denied')
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
      {
        name,
        tenantId: ctx.tenant.id,
        createdAt: ctx.deps.now(),
        ownership,
        publicAccessBlock: BLOCK_ALL,
        // A bucket created with Object Lock is versioned from the start, for good.
        ...(objectLock ? { objectLock: {}, versioning: 'Enabled' as const } : {}),
        ...(acl === null || isOwnerOnlyAcl(acl) ? {} : { acl }),
      },
      await changeEvent(ctx, { type: 'bucket.create' }, name),
    )
  } catch (err) {
    await ctx.deps.directory.releaseBucket(name)
    throw err
  }
  ctx.log.info({ bucket: name }, 'Bucket created')
  sendEmpty(ctx.res, 200, { location: `/${name}` })
}
