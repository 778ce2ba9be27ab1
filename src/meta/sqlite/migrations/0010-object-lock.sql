-- Schema v10: Object Lock, enforced by the store. A version's retention (lock_mode 'GOVERNANCE'
-- or 'COMPLIANCE' until lock_until, milliseconds since the epoch) and legal hold live in the
-- version's own row, in `objects` or `object_versions` (they move with it), so every removal or
-- replacement of a version checks them in the same transaction that would remove it.
ALTER TABLE objects ADD COLUMN lock_mode TEXT;
ALTER TABLE objects ADD COLUMN lock_until INTEGER;
ALTER TABLE objects ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE object_versions ADD COLUMN lock_mode TEXT;
ALTER TABLE object_versions ADD COLUMN lock_until INTEGER;
ALTER TABLE object_versions ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
