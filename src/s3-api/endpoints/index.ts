import type { RequestContext } from '../context.js'
import type { S3Operation } from '../router.js'
import { abortMultipartUpload } from './abort-multipart-upload.js'
import { getBucketAcl, putBucketAcl } from './bucket-acl.js'
import { deleteBucketCors, getBucketCors, putBucketCors } from './bucket-cors.js'
import {
  deleteBucketEncryption,
  getBucketEncryption,
  putBucketEncryption,
} from './bucket-encryption.js'
import {
  deleteBucketLifecycle,
  getBucketLifecycle,
  putBucketLifecycle,
} from './bucket-lifecycle.js'
import {
  deleteBucketOwnershipControls,
  getBucketOwnershipControls,
  putBucketOwnershipControls,
} from './bucket-ownership.js'
import {
  deleteBucketPolicy,
  getBucketPolicy,
  getBucketPolicyStatus,
  putBucketPolicy,
} from './bucket-policy.js'
import { getBucketRequestPayment, putBucketRequestPayment } from './bucket-request-payment.js'
import { deleteBucketTagging, getBucketTagging, putBucketTagging } from './bucket-tagging.js'
import { getBucketVersioning, putBucketVersioning } from './bucket-versioning.js'
import { completeMultipartUpload } from './complete-multipart-upload.js'
import { copyObject } from './copy-object.js'
import { createBucket } from './create-bucket.js'
import { createMultipartUpload } from './create-multipart-upload.js'
import { deleteBucket } from './delete-bucket.js'
import { deleteObject } from './delete-object.js'
import { deleteObjects } from './delete-objects.js'
import { getBucketLocation } from './get-bucket-location.js'
import { getObject } from './get-object.js'
import { getObjectAttributes } from './get-object-attributes.js'
import { headBucket } from './head-bucket.js'
import { headObject } from './head-object.js'
import { listBuckets } from './list-buckets.js'
import { listMultipartUploads } from './list-multipart-uploads.js'
import { listObjectVersions } from './list-object-versions.js'
import { listObjects } from './list-objects.js'
import { listObjectsV2 } from './list-objects-v2.js'
import { listParts } from './list-parts.js'
import { getObjectAcl, putObjectAcl } from './object-acl.js'
import {
  getObjectLegalHold,
  getObjectLockConfiguration,
  getObjectRetention,
  putObjectLegalHold,
  putObjectLockConfiguration,
  putObjectRetention,
} from './object-lock.js'
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './object-tagging.js'
import { postObject } from './post-object.js'
import {
  deletePublicAccessBlock,
  getPublicAccessBlock,
  putPublicAccessBlock,
} from './public-access-block.js'
import { putObject } from './put-object.js'
import { uploadPart } from './upload-part.js'
import { uploadPartCopy } from './upload-part-copy.js'

/** One handler per S3 operation; the compiler checks none is missing. */
export const ENDPOINTS: Record<S3Operation, (ctx: RequestContext) => Promise<void>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  PutBucketVersioning: putBucketVersioning,
  PutBucketEncryption: putBucketEncryption,
  GetBucketEncryption: getBucketEncryption,
  DeleteBucketEncryption: deleteBucketEncryption,
  PutBucketTagging: putBucketTagging,
  GetBucketTagging: getBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  PutBucketCors: putBucketCors,
  GetBucketCors: getBucketCors,
  DeleteBucketCors: deleteBucketCors,
  PutBucketLifecycleConfiguration: putBucketLifecycle,
  GetBucketLifecycleConfiguration: getBucketLifecycle,
  DeleteBucketLifecycle: deleteBucketLifecycle,
  GetBucketRequestPayment: getBucketRequestPayment,
  PutBucketRequestPayment: putBucketRequestPayment,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  PostObject: postObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  PutObjectTagging: putObjectTagging,
  GetObjectTagging: getObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  GetObjectAttributes: getObjectAttributes,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  PutBucketPolicy: putBucketPolicy,
  GetBucketPolicy: getBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  PutBucketAcl: putBucketAcl,
  GetBucketAcl: getBucketAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectAcl: getObjectAcl,
  PutBucketOwnershipControls: putBucketOwnershipControls,
  GetBucketOwnershipControls: getBucketOwnershipControls,
  DeleteBucketOwnershipControls: deleteBucketOwnershipControls,
  PutPublicAccessBlock: putPublicAccessBlock,
  GetPublicAccessBlock: getPublicAccessBlock,
  DeletePublicAccessBlock: deletePublicAccessBlock,
  PutObjectLockConfiguration: putObjectLockConfiguration,
  GetObjectLockConfiguration: getObjectLockConfiguration,
  PutObjectRetention: putObjectRetention,
  GetObjectRetention: getObjectRetention,
  PutObjectLegalHold: putObjectLegalHold,
  GetObjectLegalHold: getObjectLegalHold,
}
