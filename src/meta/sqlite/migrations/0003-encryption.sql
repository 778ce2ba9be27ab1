-- Schema v3: encryption at rest. Object bytes (blob files and inline bytes) are envelopes under
-- a per-object (per-part) data key; the wrapped data key is stored next to what it opens. NULL
-- in these columns marks rows written before encryption (plaintext bytes, still readable).
-- JSON: {"algorithm":"AES256"|"aws:kms","kmsKeyId":…,"customerKeyFingerprint":…}.
ALTER TABLE objects ADD COLUMN encryption TEXT;
ALTER TABLE multipart_uploads ADD COLUMN encryption TEXT;
-- The wrapped data key of inline bytes; blob pieces keep theirs in objects.blob_parts JSON.
ALTER TABLE object_data ADD COLUMN wrapped_key TEXT;
ALTER TABLE parts ADD COLUMN wrapped_key TEXT;
-- PutBucketEncryption: {"algorithm":…,"kmsKeyId":…,"bucketKeyEnabled":…}; NULL = none set.
ALTER TABLE buckets ADD COLUMN encryption TEXT;
