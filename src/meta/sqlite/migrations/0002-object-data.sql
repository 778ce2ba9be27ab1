-- Schema v2: inline object bytes move out of `objects` into their own table. With 4 KiB bodies
-- in the row, a listing of 1000 keys read ~1000 pages (one row per page plus overflow); with the
-- bytes apart, rows are ~200 bytes and a listing reads a few dozen pages.
CREATE TABLE object_data (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

INSERT INTO object_data (bucket, key, bytes)
  SELECT bucket, key, inline_data FROM objects WHERE inline_data IS NOT NULL;

UPDATE objects SET inline_data = NULL WHERE inline_data IS NOT NULL;
