-- Metadata schema v5: the transfer gate's per-object progress, kept in the destination data
-- center's cell (object names are object metadata: they never go to the directory). One row per
-- object of a running transfer; 'copied' once the destination copy is durable, 'done' once the
-- object is finished (for move and migrate: its source removed), 'missing' for a listed key the
-- source did not have. transfer_progress holds the job's counters, bumped in the same
-- transaction as an object's first 'done' or 'missing'. Both are dropped when the job ends.
CREATE TABLE transfer_objects (
  transfer_id TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('copied', 'done', 'missing')),
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  PRIMARY KEY (transfer_id, key)
) STRICT;

CREATE TABLE transfer_progress (
  transfer_id TEXT PRIMARY KEY,
  objects_done INTEGER NOT NULL DEFAULT 0,
  bytes_done INTEGER NOT NULL DEFAULT 0,
  objects_missing INTEGER NOT NULL DEFAULT 0
) STRICT;
