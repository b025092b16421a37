-- +goose Up
-- A pool's own limit of live workers (0: none), checked with the tenant's
-- when a worker is created.
ALTER TABLE pools ADD COLUMN max_workers INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE pools DROP COLUMN max_workers;
