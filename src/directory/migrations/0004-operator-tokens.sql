-- Directory schema v4: operator tokens, by SHA-256 only. The token itself is printed once at first
-- start and kept in <dataDir>/keys/operator.token (mode 0600); a copy of this file alone does not
-- let anyone use the admin API. Tokens are 256 random bits, so a plain SHA-256 (no slow KDF) is
-- enough to make the stored value useless to a thief.
CREATE TABLE operator_tokens (
  name TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  created_at INTEGER NOT NULL
) STRICT;
