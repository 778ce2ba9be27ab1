import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Errors } from '../s3-error.js'
import { childText, parseXml } from '../xml/parse.js'

/**
 * GetBucketRequestPayment: the bucket owner pays, always. Sovra does not bill requesters, so
 * every bucket is what S3 calls a bucket without Requester Pays.
 */
export async function getBucketRequestPayment(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, 'RequestPaymentConfiguration', { Payer: 'BucketOwner' })
}

/**
 * PutBucketRequestPayment: `BucketOwner` is what every bucket already is (accepted, nothing
 * changes); `Requester` would make requesters pay, which Sovra cannot do (`NotImplemented`);
 * anything else is `MalformedXML`.
 */
export async function putBucketRequestPayment(ctx: RequestContext): Promise<void> {
  const body = await readSmallBody(ctx, 64 * 1024)
  const root = parseXml(body).RequestPaymentConfiguration
  if (root === undefined) throw S3Errors.malformedXml()
  const payer = childText(root, 'Payer')
  if (payer === 'Requester') {
    throw S3Errors.notImplemented('Requester Pays (Sovra does not bill requesters)')
  }
  if (payer !== 'BucketOwner') throw S3Errors.malformedXml()
  sendEmpty(ctx.res, 200)
}
