-- +goose Up
-- Static pools: machines a tenant runs itself join a pool with a one-time
-- registration token (only its SHA-256 is kept) and keep the name they
-- registered with.
ALTER TABLE workers ADD COLUMN name text NOT NULL DEFAULT '';
CREATE TABLE registration_tokens (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pool_id    text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- +goose Down
DROP TABLE registration_tokens;
ALTER TABLE workers DROP COLUMN name;
