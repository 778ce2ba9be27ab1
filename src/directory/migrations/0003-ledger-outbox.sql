-- Directory schema v3: the directory's transparency-log outbox. A catalog, tenant or key change
-- and its ledger event commit in one transaction, so the event is durable the moment the change
-- is; the serving process appends outbox entries to the directory's log in order and then
-- deletes them (src/ledger/outbox-drain.ts). Entries are RFC 8785 canonical JSON events.
CREATE TABLE ledger_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
