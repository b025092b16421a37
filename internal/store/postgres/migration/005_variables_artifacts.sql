-- Task variables and artifacts. A sensitive variable's value is sealed
-- (AES-GCM) by the server before it is written: this table never holds
-- one in plain text. Artifacts are kept in bytea chunks of a few MiB, so
-- every replica reads what any replica stored.

-- +goose Up
CREATE TABLE variables (
    task_id    text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    -- scope is the step id of a step input, '' otherwise: a task input and
    -- an output are one per name.
    scope      text NOT NULL DEFAULT '',
    name       text NOT NULL,
    step_id    text NOT NULL DEFAULT '',
    value      text NOT NULL,
    sensitive  boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (task_id, kind, scope, name)
);

CREATE TABLE artifacts (
    id         text PRIMARY KEY,
    task_id    text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    step_id    text NOT NULL DEFAULT '',
    name       text NOT NULL,
    size       bigint NOT NULL DEFAULT 0,
    sha256     text NOT NULL DEFAULT '',
    committed  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX artifacts_task_name ON artifacts (task_id, name) WHERE committed;
CREATE INDEX artifacts_task ON artifacts (task_id);
CREATE INDEX artifacts_pending ON artifacts (created_at) WHERE NOT committed;

CREATE TABLE artifact_chunks (
    artifact_id text NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    idx         integer NOT NULL,
    data        bytea NOT NULL,
    PRIMARY KEY (artifact_id, idx)
);

-- +goose Down
DROP TABLE artifact_chunks;
DROP TABLE artifacts;
DROP TABLE variables;
