-- Several servers on one store: the runner of each unfinished task and its
-- lease (owner_until NULL: no lease; 0: a lease released), and the id of
-- the installation, one row recorded by the first server that asks for it.

-- +goose Up
ALTER TABLE tasks ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN owner_until INTEGER;

-- TaskRenew and TaskRelease find a runner's unfinished tasks.
CREATE INDEX tasks_unfinished_owner ON tasks (owner) WHERE finished_at IS NULL;

-- At most one row: the key can only be 1. (An INTEGER PRIMARY KEY is the
-- rowid, which ignores a DEFAULT: inserts name one = 1.)
CREATE TABLE installation (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id  TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE installation;
DROP INDEX tasks_unfinished_owner;
ALTER TABLE tasks DROP COLUMN owner_until;
ALTER TABLE tasks DROP COLUMN owner;
