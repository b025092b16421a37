-- The waiting line of steps that wait for a worker (store.LineStore),
-- shared by the servers on the store.

-- +goose Up
CREATE TABLE lease_line (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    line       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX lease_line_order ON lease_line (line, seq);
CREATE INDEX lease_line_expiry ON lease_line (expires_at);

-- +goose Down
DROP TABLE lease_line;
