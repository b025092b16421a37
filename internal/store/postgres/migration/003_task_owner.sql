-- Several servers (replicas) on one schema: the runner of each unfinished
-- task and its lease (owner_until NULL: no lease; 0001-01-01 UTC: a lease
-- released), and the id of the installation, one row recorded by the first
-- server that asks for it.

-- +goose Up
ALTER TABLE tasks ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN owner_until timestamptz;

-- TaskRenew and TaskRelease find a runner's unfinished tasks.
CREATE INDEX tasks_unfinished_owner ON tasks (owner) WHERE finished_at IS NULL;

-- At most one row: the key can only be true.
CREATE TABLE installation (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    id  text NOT NULL
);

-- +goose Down
DROP TABLE installation;
DROP INDEX tasks_unfinished_owner;
ALTER TABLE tasks DROP COLUMN owner_until;
ALTER TABLE tasks DROP COLUMN owner;
