-- Schema v6: object and bucket tags, and bucket CORS rules. Tags are a JSON array of
-- {"key","value"} in the order the client sent them; NULL means none. An object's tags live in
-- its row, so they are written, replaced and dropped in the same statement as the object.
ALTER TABLE objects ADD COLUMN tags TEXT;
-- The tags a multipart upload was created with (x-amz-tagging), applied when it completes.
ALTER TABLE multipart_uploads ADD COLUMN tags TEXT;
-- PutBucketTagging's tag set and PutBucketCors's rules (JSON array); NULL = none set.
ALTER TABLE buckets ADD COLUMN tags TEXT;
ALTER TABLE buckets ADD COLUMN cors TEXT;
