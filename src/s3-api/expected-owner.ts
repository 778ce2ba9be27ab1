import type { IncomingHttpHeaders } from 'node:http'
import type { S3Tenant } from './context.js'
import type { S3Operation } from './router.js'
import { S3Errors } from './s3-error.js'

/** Operations that read a source bucket, whose owner `x-amz-source-expected-bucket-owner` names. */
const READS_SOURCE = new Set<S3Operation>(['CopyObject', 'UploadPartCopy'])

/**
 * `x-amz-expected-bucket-owner` (and `x-amz-source-expected-bucket-owner` on copies): a request
 * naming an owner other than the bucket's gets `403 AccessDenied` before anything is read or
 * changed. The owner is the tenant's canonical id, the `Owner/ID` of ListBuckets; `tenant` is
 * the bucket's owner (who may differ from the requester when a policy or ACL shares the bucket).
 * CreateBucket takes no such header (the bucket has no owner yet).
 */
export function checkExpectedOwner(
  headers: IncomingHttpHeaders,
  op: S3Operation,
  tenant: S3Tenant,
): void {
  if (op === 'ListBuckets' || op === 'CreateBucket') return
  const expected = headers['x-amz-expected-bucket-owner']
  if (expected !== undefined && expected !== tenant.canonicalId) throw S3Errors.accessDenied()
  const source = headers['x-amz-source-expected-bucket-owner']
  if (READS_SOURCE.has(op) && source !== undefined && source !== tenant.canonicalId) {
    throw S3Errors.accessDenied()
  }
}
