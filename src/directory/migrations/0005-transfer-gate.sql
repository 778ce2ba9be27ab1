-- Directory schema v5: the transfer gate's durable state. Times are milliseconds since the epoch.

-- Ed25519 public keys a tenant registered for signing transfer instructions. The private key
-- never reaches Sovra. key_id is "ed25519:" + base64url(SHA-256(raw key)[0:16]). A revoked key
-- stays listed (revoked_at set) and its id is never reused.
CREATE TABLE tenant_signing_keys (
  key_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  public_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

CREATE INDEX tenant_signing_keys_by_tenant ON tenant_signing_keys (tenant_id, created_at);

-- Every transfer the gate accepted: one row per signed instruction (id = SHA-256 hex of its
-- canonical bytes). status: queued → running → done | failed. logged_at is set once the
-- instruction is in both data centers' ledgers; no byte moves before. phase: 'copy' until the
-- objects are copied, then for migrate 'switched' (home moved) and 'cleanup'.
CREATE TABLE transfers (
  id TEXT PRIMARY KEY CHECK (length(id) = 64),
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  key_id TEXT NOT NULL REFERENCES tenant_signing_keys (key_id),
  signed TEXT NOT NULL,
  operation TEXT NOT NULL CHECK (operation IN ('copy', 'move', 'migrate')),
  source_dc TEXT NOT NULL,
  source_bucket TEXT NOT NULL,
  destination_dc TEXT NOT NULL,
  destination_bucket TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  phase TEXT NOT NULL CHECK (phase IN ('copy', 'switched', 'cleanup')),
  objects_done INTEGER NOT NULL DEFAULT 0,
  bytes_done INTEGER NOT NULL DEFAULT 0,
  objects_missing INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  submitted_at INTEGER NOT NULL,
  logged_at INTEGER,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;

CREATE INDEX transfers_by_tenant ON transfers (tenant_id, submitted_at);
CREATE INDEX transfers_by_status ON transfers (status, submitted_at);

-- Single use, across restarts: a nonce is inserted in the same transaction that records the
-- transfer, so two concurrent submissions of one instruction cannot both be accepted.
CREATE TABLE instruction_nonces (
  nonce TEXT PRIMARY KEY,
  transfer_id TEXT NOT NULL REFERENCES transfers (id),
  used_at INTEGER NOT NULL
) STRICT;

-- Per-object progress of a transfer: 'copied' once the destination is durable, 'done' once
-- the object is finished (for move/migrate: its source removed), 'missing' for a listed key the
-- source did not have.
CREATE TABLE transfer_objects (
  transfer_id TEXT NOT NULL REFERENCES transfers (id),
  key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('copied', 'done', 'missing')),
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (transfer_id, key)
) STRICT;
