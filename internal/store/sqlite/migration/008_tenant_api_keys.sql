-- +goose Up
-- A tenant's API keys: several at a time, so a key can be rotated without
-- a moment when none works. Only the SHA-256 of a key is kept, with its
-- first characters (prefix) to tell keys apart. The key each tenant was
-- created with moves here; its prefix was never kept.
CREATE TABLE tenant_api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL DEFAULT '',
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX tenant_api_keys_tenant ON tenant_api_keys (tenant_id, created_at);
INSERT INTO tenant_api_keys (id, tenant_id, prefix, key_hash, created_at)
    SELECT 'k-' || id, id, '', api_key_hash, created_at FROM tenants WHERE api_key_hash <> '';

-- +goose Down
DROP TABLE tenant_api_keys;
