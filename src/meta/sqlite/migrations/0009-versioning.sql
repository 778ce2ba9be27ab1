-- Schema v9: S3 versioning. A bucket's versioning state (NULL = never enabled, 'Enabled',
-- 'Suspended') is a column of `buckets`.
--
-- Current versions stay in `objects` (WITHOUT ROWID, keyed (bucket, key)): the current version
-- of each key that is not a delete marker, exactly the rows ListObjects/V2 list, so listing is
-- as fast as before versioning (no is_latest filter, no extra index). `objects.version_id` is
-- that version's id (NULL = the `null` version). Every other version - noncurrent versions and
-- all delete markers, including a current one - lives in `object_versions`, keyed (bucket, key,
-- seq). `seq` orders a key's versions by creation (it is a store-wide counter, so the `null`
-- version rewritten in a suspended bucket moves to the front); a key's row in `objects`, if any,
-- always has the largest seq of that key. A key whose current version is a delete marker has no
-- row in `objects` and its newest `object_versions` row is that marker. Rows move between the two
-- tables with the blob holders they carry unchanged.
ALTER TABLE buckets ADD COLUMN versioning TEXT;
-- Rows written before versioning are the `null` version, older than anything written later.
ALTER TABLE objects ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- Noncurrent versions carry their inline bytes in the row (last column), unlike `objects`:
-- ListObjectVersions reads them, but the listing benchmarks only read `objects`.
CREATE TABLE object_versions (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  version_id TEXT,
  delete_marker INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  checksums TEXT NOT NULL,
  checksum_type TEXT,
  headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  parts_count INTEGER,
  part_sizes TEXT,
  blob_parts TEXT,
  encryption TEXT,
  tags TEXT,
  part_checksums TEXT,
  inline_key TEXT,
  inline_data BLOB,
  PRIMARY KEY (bucket, key, seq)
) WITHOUT ROWID;
