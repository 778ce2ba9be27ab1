-- Schema v7: bucket lifecycle configurations (PutBucketLifecycleConfiguration), one JSON document
-- per bucket that has one. A table of its own, so the lifecycle worker finds the buckets with
-- rules by scanning only them; the trigger drops a bucket's configuration with the bucket.
CREATE TABLE bucket_lifecycle (
  bucket TEXT PRIMARY KEY NOT NULL,
  config TEXT NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER bucket_lifecycle_drop AFTER DELETE ON buckets
BEGIN
  DELETE FROM bucket_lifecycle WHERE bucket = OLD.name;
END;
