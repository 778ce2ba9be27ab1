-- Schema v12: a bucket's Object Lock configuration ({"enabled":true,"defaultRetention":{"mode",
-- "days"|"years"}} JSON), set when the bucket is created with Object Lock or by
-- PutObjectLockConfiguration; NULL means Object Lock is not enabled. Once enabled it cannot be
-- turned off (as on AWS), only its default retention changed.
ALTER TABLE buckets ADD COLUMN object_lock TEXT;
-- The lock a multipart upload was created with (x-amz-object-lock-* on CreateMultipartUpload:
-- {"retention":{"mode","retainUntil"},"legalHold"} JSON), applied when it completes; NULL: none.
ALTER TABLE multipart_uploads ADD COLUMN object_lock TEXT;
