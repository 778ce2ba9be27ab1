-- Schema v12: a bucket's Object Lock configuration ({"enabled":true,"defaultRetention":{"mode",
-- "days"|"years"}} JSON), set when the bucket is created with Object Lock or by
-- PutObjectLockConfiguration; NULL means Object Lock is not enabled. Once enabled it cannot be
-- turned off (as on AWS), only its default retention changed.
ALTER TABLE buckets ADD COLUMN object_lock TEXT;
