-- +goose Up
-- Static pools: machines a tenant runs itself join a pool with a one-time
-- registration token (only its SHA-256 is kept) and keep the name they
-- registered with.
ALTER TABLE workers ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE TABLE registration_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pool_id    TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- +goose Down
DROP TABLE registration_tokens;
ALTER TABLE workers DROP COLUMN name;
