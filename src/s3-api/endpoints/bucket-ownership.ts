import { isOwnerOnlyAcl } from '../../access/index.js'
import type { ObjectOwnership } from '../../meta/index.js'
import { bucketRecordOf } from '../access-control.js'
import { configRemovedEvent, configSetEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { childList, childText, parseXml } from '../xml/parse.js'

/** The Object Ownership values S3 accepts. */
export const OBJECT_OWNERSHIPS: readonly ObjectOwnership[] = [
  'BucketOwnerEnforced',
  'BucketOwnerPreferred',
  'ObjectWriter',
]

/** An Object Ownership value, or `InvalidArgument` naming `argument`. */
export function objectOwnershipOf(value: string, argument: string): ObjectOwnership {
  if (!(OBJECT_OWNERSHIPS as readonly string[]).includes(value)) {
    throw S3Errors.invalidArgument('Invalid Object Ownership', argument, value)
  }
  return value as ObjectOwnership
}

/** Refused: BucketOwnerEnforced while the bucket's ACL grants anyone but its owner. */
export function invalidAclWithOwnership(): S3Error {
  return new S3Error(
    'InvalidBucketAclWithObjectOwnership',
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  )
}

/** PutBucketOwnershipControls: one rule naming the Object Ownership. */
export async function putBucketOwnershipControls(ctx: RequestContext): Promise<void> {
  const doc = parseXml(await readSmallBody(ctx, 64 * 1024))
  const rules = childList(doc.OwnershipControls, 'Rule')
  const [rule] = rules
  const value = rule === undefined ? undefined : childText(rule, 'ObjectOwnership')
  if (rules.length !== 1 || value === undefined) throw S3Errors.malformedXml()
  const ownership = objectOwnershipOf(value, 'ObjectOwnership')
  const record = await bucketRecordOf(ctx)
  if (ownership === 'BucketOwnerEnforced' && record.acl != null && !isOwnerOnlyAcl(record.acl)) {
    throw invalidAclWithOwnership()
  }
  await ctx.deps.cell.meta.setBucketOwnership(
    record.name,
    ownership,
    await configSetEvent(ctx, 'ownership', ownership),
  )
  sendEmpty(ctx.res, 200)
}

/** GetBucketOwnershipControls: the rule, or `OwnershipControlsNotFoundError` (404). */
export async function getBucketOwnershipControls(ctx: RequestContext): Promise<void> {
  const record = await bucketRecordOf(ctx)
  const ownership = record.ownership ?? null
  if (ownership === null) {
    throw new S3Error(
      'OwnershipControlsNotFoundError',
      'The bucket ownership controls were not found',
      { BucketName: record.name },
    )
  }
  sendXml(ctx.res, 200, 'OwnershipControls', { Rule: { ObjectOwnership: ownership } })
}

/** DeleteBucketOwnershipControls: removes them (ACLs then apply, as with ObjectWriter); 204. */
export async function deleteBucketOwnershipControls(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketOwnership(
    ctx.s3.bucket as string,
    null,
    await configRemovedEvent(ctx, 'ownership'),
  )
  sendEmpty(ctx.res, 204)
}
