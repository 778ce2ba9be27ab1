-- Directory schema v8: customer KMS keys a tenant registered, which its buckets may name as
-- KMSMasterKeyID (aws:kms). Times are milliseconds since the epoch.
--
-- provider is 'vault-transit' (HashiCorp Vault, OpenBao or `sovra keyd`): address, mount, key
-- name and namespace say where the key lives. token is the key service token Sovra wraps and
-- unwraps with, a secret: AES-256-GCM under the directory's secrets key (secrets-cipher.ts), with
-- "kms-key:<tenant id>:<key id>" as associated data, never returned by any API. data_centers is a
-- JSON array of data center ids the key may be used in, NULL for any. A removed key keeps its row
-- (disabled_at set, token erased) and its id is never reused by that tenant.
CREATE TABLE tenant_kms_keys (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  key_id TEXT NOT NULL,
  provider TEXT NOT NULL CHECK (provider IN ('vault-transit')),
  address TEXT NOT NULL,
  mount TEXT NOT NULL,
  key_name TEXT NOT NULL,
  namespace TEXT,
  token TEXT,
  data_centers TEXT,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER,
  PRIMARY KEY (tenant_id, key_id),
  CHECK ((disabled_at IS NULL) = (token IS NOT NULL))
) STRICT;
