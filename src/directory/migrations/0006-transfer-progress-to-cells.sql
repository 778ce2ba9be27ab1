-- Directory schema v6: a transfer's per-object progress names objects, and object names are
-- object metadata, which the directory never holds. It moved to the destination cell's
-- metadata store (meta migration 0005); a job resumed after this upgrade finds no per-object
-- progress and re-copies idempotently (an object copied again over an identical copy changes
-- nothing). The job's counters stay here.
DROP TABLE transfer_objects;
