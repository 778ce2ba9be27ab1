-- Metadata schema v4: the cell's transparency-log outbox. A change (bucket create/delete,
-- object put/delete, multipart complete) and its ledger event commit in one transaction, so
-- the event is durable exactly when the change is and never without it; the cell appends
-- outbox entries to its log in order and then deletes them (src/ledger/outbox-drain.ts).
CREATE TABLE ledger_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry BLOB NOT NULL
) STRICT;
