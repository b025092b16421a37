-- The tool requirements of a step ("kubectl=1.22.6"), as a text array,
-- checked against the pool's image before a worker is acquired.

-- +goose Up
ALTER TABLE steps ADD COLUMN requires text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE steps DROP COLUMN requires;
