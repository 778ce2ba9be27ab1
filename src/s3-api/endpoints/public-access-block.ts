import type { PublicAccessBlock } from '../../meta/index.js'
import { bucketRecordOf } from '../access-control.js'
import { configRemovedEvent, configSetEvent } from '../audit.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { childText, parseXml } from '../xml/parse.js'

/** What AWS gives every new bucket: all public access blocked. */
export const BLOCK_ALL: PublicAccessBlock = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
}

const FIELDS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const

/** PutPublicAccessBlock: the four settings (an absent one is false). */
export async function putPublicAccessBlock(ctx: RequestContext): Promise<void> {
  const doc = parseXml(await readSmallBody(ctx, 64 * 1024))
  const config = doc.PublicAccessBlockConfiguration
  if (config === undefined) throw S3Errors.malformedXml()
  const block: Record<string, boolean> = {}
  for (const [element, field] of FIELDS) {
    const text = childText(config, element)
    if (text !== undefined && text !== 'true' && text !== 'false') throw S3Errors.malformedXml()
    block[field] = text === 'true'
  }
  const value = block as unknown as PublicAccessBlock
  await ctx.deps.cell.meta.setBucketPublicAccessBlock(
    ctx.s3.bucket as string,
    value,
    await configSetEvent(ctx, 'public-access-block', value),
  )
  sendEmpty(ctx.res, 200)
}

/** GetPublicAccessBlock: the settings, or `NoSuchPublicAccessBlockConfiguration` (404). */
export async function getPublicAccessBlock(ctx: RequestContext): Promise<void> {
  const record = await bucketRecordOf(ctx)
  const block = record.publicAccessBlock ?? null
  if (block === null) {
    throw new S3Error(
      'NoSuchPublicAccessBlockConfiguration',
      'The public access block configuration was not found',
      { BucketName: record.name },
    )
  }
  sendXml(ctx.res, 200, 'PublicAccessBlockConfiguration', {
    BlockPublicAcls: block.blockPublicAcls,
    IgnorePublicAcls: block.ignorePublicAcls,
    BlockPublicPolicy: block.blockPublicPolicy,
    RestrictPublicBuckets: block.restrictPublicBuckets,
  })
}

/** DeletePublicAccessBlock: removes it (nothing blocked); 204. */
export async function deletePublicAccessBlock(ctx: RequestContext): Promise<void> {
  await ctx.deps.cell.meta.setBucketPublicAccessBlock(
    ctx.s3.bucket as string,
    null,
    await configRemovedEvent(ctx, 'public-access-block'),
  )
  sendEmpty(ctx.res, 204)
}
