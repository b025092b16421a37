-- +goose Up
-- A pool's capacity: how many of its tenant's steps one worker runs at
-- once (default 1). A worker's leases: how many steps it runs now, 0 in
-- every state but busy.
ALTER TABLE pools ADD COLUMN capacity INTEGER NOT NULL DEFAULT 1;
ALTER TABLE workers ADD COLUMN leases INTEGER NOT NULL DEFAULT 0;
UPDATE workers SET leases = 1 WHERE state = 'busy';

-- +goose Down
ALTER TABLE workers DROP COLUMN leases;
ALTER TABLE pools DROP COLUMN capacity;
