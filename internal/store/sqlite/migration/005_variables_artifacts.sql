-- Task variables and artifacts. A sensitive variable's value is sealed
-- (AES-GCM) by the server before it is written: this table never holds
-- one in plain text. Artifacts are kept in chunks of a few MiB, in a rowid
-- table (SQLite keeps large rows better there than WITHOUT ROWID).

-- +goose Up
CREATE TABLE variables (
    task_id    TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    -- scope is the step id of a step input, '' otherwise: a task input and
    -- an output are one per name.
    scope      TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    step_id    TEXT NOT NULL DEFAULT '',
    value      TEXT NOT NULL,
    sensitive  INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, kind, scope, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE artifacts (
    id         TEXT PRIMARY KEY,
    task_id    TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    step_id    TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    size       INTEGER NOT NULL DEFAULT 0,
    sha256     TEXT NOT NULL DEFAULT '',
    committed  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX artifacts_task_name ON artifacts (task_id, name) WHERE committed = 1;
CREATE INDEX artifacts_task ON artifacts (task_id);
CREATE INDEX artifacts_pending ON artifacts (created_at) WHERE committed = 0;

CREATE TABLE artifact_chunks (
    artifact_id TEXT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    data        BLOB NOT NULL,
    UNIQUE (artifact_id, idx)
) STRICT;

-- +goose Down
DROP TABLE artifact_chunks;
DROP TABLE artifacts;
DROP TABLE variables;
