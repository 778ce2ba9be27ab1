/** S3 actions that act on an object (`arn:aws:s3:::bucket/key`), as IAM's service reference lists them. */
const OBJECT_ACTIONS = `AbortMultipartUpload BypassGovernanceRetention DeleteObject DeleteObjectTagging
  DeleteObjectVersion DeleteObjectVersionTagging GetObject GetObjectAcl GetObjectAttributes
  GetObjectLegalHold GetObjectRetention GetObjectTagging GetObjectTorrent GetObjectVersion
  GetObjectVersionAcl GetObjectVersionAttributes GetObjectVersionForReplication
  GetObjectVersionTagging GetObjectVersionTorrent InitiateReplication ListMultipartUploadParts
  ObjectOwnerOverrideToBucketOwner PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention
  PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging ReplicateDelete ReplicateObject
  ReplicateTags RestoreObject`

/** S3 actions that act on a bucket (`arn:aws:s3:::bucket`). */
const BUCKET_ACTIONS = `CreateBucket DeleteBucket DeleteBucketOwnershipControls DeleteBucketPolicy
  DeleteBucketWebsite GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAcl
  GetBucketCORS GetBucketLocation GetBucketLogging GetBucketNotification
  GetBucketObjectLockConfiguration GetBucketOwnershipControls GetBucketPolicy
  GetBucketPolicyStatus GetBucketPublicAccessBlock GetBucketRequestPayment GetBucketTagging
  GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration
  GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration
  GetMetricsConfiguration GetReplicationConfiguration ListBucket ListBucketMultipartUploads
  ListBucketVersions PutAccelerateConfiguration PutAnalyticsConfiguration PutBucketAcl
  PutBucketCORS PutBucketLogging PutBucketNotification PutBucketObjectLockConfiguration
  PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment
  PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
  PutIntelligentTieringConfiguration PutInventoryConfiguration PutLifecycleConfiguration
  PutMetricsConfiguration PutReplicationConfiguration`

/** Every known S3 action, lower-case `s3:name` → the kind of resource it acts on. */
export const S3_ACTION_KINDS: ReadonlyMap<string, 'object' | 'bucket'> = new Map([
  ...OBJECT_ACTIONS.trim()
    .split(/\s+/)
    .map((n) => [`s3:${n.toLowerCase()}`, 'object'] as const),
  ...BUCKET_ACTIONS.trim()
    .split(/\s+/)
    .map((n) => [`s3:${n.toLowerCase()}`, 'bucket'] as const),
])

/** Actions only "read" a bucket's content: what AWS counts when judging a policy public. */
export const READ_ACTIONS = new Set(['s3:getobject', 's3:getobjectversion', 's3:listbucket'])
