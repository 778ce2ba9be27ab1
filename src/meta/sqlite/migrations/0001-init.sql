-- 0001: the initial schema. Keys are TEXT with BINARY collation, so they compare as UTF-8 bytes,
-- which is S3's listing order. JSON columns hold small maps (headers, metadata, checksums).

CREATE TABLE buckets (
  name TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- WITHOUT ROWID: rows are stored in key order, so a 1000-key listing reads few pages.
-- inline_data is last so the columns a listing reads stay in the row's local payload.
CREATE TABLE objects (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  checksums TEXT NOT NULL,
  checksum_type TEXT,
  headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  parts_count INTEGER,
  part_sizes TEXT,
  -- JSON array of {"ref","size"}; NULL means the bytes are inline.
  blob_parts TEXT,
  inline_data BLOB,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

CREATE TABLE multipart_uploads (
  upload_id TEXT NOT NULL PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  initiated INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  checksum_algorithm TEXT,
  checksum_type TEXT
) WITHOUT ROWID;

CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket, key, initiated, upload_id);

CREATE TABLE parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  checksums TEXT NOT NULL,
  blob_ref TEXT NOT NULL,
  blob_size INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;

-- Every blob an object or part references, with how many rows hold it. Maintained in the same
-- transaction as the rows, so the startup sweep asks one indexed question per blob file.
CREATE TABLE blob_refs (
  ref TEXT NOT NULL PRIMARY KEY,
  size INTEGER NOT NULL,
  holders INTEGER NOT NULL
) WITHOUT ROWID;
