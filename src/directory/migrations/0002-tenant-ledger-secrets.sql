-- Directory schema v2: each tenant's ledger secret, the HMAC key of the salted commitments that
-- stand for its object keys and ids in the public transparency log. Encrypted like access key
-- secrets ("v1:…", AES-256-GCM, AAD = "ledger:" || tenant id); created on first use.
CREATE TABLE tenant_ledger_secrets (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
