-- The audit log of operators' and tenants' changes (store.AuditStore).

-- +goose Up
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    time      INTEGER NOT NULL,
    tenant_id TEXT NOT NULL DEFAULT '',
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '',
    source    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_tenant ON audit (tenant_id, seq);

-- +goose Down
DROP TABLE audit;
