-- Directory schema v1: the small global catalog. No object data, no object metadata.
-- Times are milliseconds since the epoch.

CREATE TABLE data_centers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  city TEXT NOT NULL,
  jurisdiction TEXT NOT NULL CHECK (length(jurisdiction) = 2),
  status TEXT NOT NULL CHECK (status IN ('planned', 'active', 'draining', 'retired')),
  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  position INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  canonical_id TEXT NOT NULL UNIQUE CHECK (length(canonical_id) = 64),
  admin INTEGER NOT NULL CHECK (admin IN (0, 1)),
  created_at INTEGER NOT NULL
) STRICT;

-- secret is "v1:<nonce b64>:<ciphertext b64>:<tag b64>" (AES-256-GCM, AAD = access key id).
-- Revoked keys are kept for audit, and their ids are never reused.
CREATE TABLE access_keys (
  access_key_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  secret TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

CREATE INDEX access_keys_by_tenant ON access_keys (tenant_id, created_at);

CREATE TABLE buckets (
  name TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  dc_id TEXT NOT NULL REFERENCES data_centers (id),
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX buckets_by_tenant ON buckets (tenant_id, name);
