-- Initial schema. Times are INTEGER unix nanoseconds in UTC (NULL for an
-- unset optional time, 0 for a zero time); durations are INTEGER nanoseconds.

-- +goose Up
CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    api_key_hash TEXT NOT NULL DEFAULT '',
    idle_timeout INTEGER NOT NULL DEFAULT 0,
    max_lifetime INTEGER NOT NULL DEFAULT 0,
    max_workers  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX tenants_api_key_hash ON tenants (api_key_hash) WHERE api_key_hash <> '';

CREATE TABLE pools (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    image      TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
) STRICT;

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    state       TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

-- The runner resumes unfinished tasks at start; finished ones are history.
CREATE INDEX tasks_unfinished ON tasks (created_at) WHERE finished_at IS NULL;

CREATE TABLE steps (
    id              TEXT PRIMARY KEY,
    task_id         TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL,
    name            TEXT NOT NULL,
    pool_id         TEXT NOT NULL,
    syntax          TEXT NOT NULL,
    script          TEXT NOT NULL,
    container_image TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    worker_id       TEXT NOT NULL DEFAULT '',
    exit_code       INTEGER,
    error           TEXT NOT NULL DEFAULT '',
    started_at      INTEGER,
    dispatched_at   INTEGER,
    finished_at     INTEGER,
    UNIQUE (task_id, idx)
) STRICT;

CREATE INDEX steps_worker_id ON steps (worker_id) WHERE worker_id <> '';

CREATE TABLE log_lines (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    level   TEXT NOT NULL,
    step    TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
) STRICT, WITHOUT ROWID;

-- Workers carry no foreign keys: a standby worker has no tenant or pool yet,
-- and a worker outlives the pool it was made for.
CREATE TABLE workers (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL DEFAULT '',
    pool_id           TEXT NOT NULL DEFAULT '',
    image             TEXT NOT NULL,
    build             TEXT NOT NULL,
    provider          TEXT NOT NULL,
    resource_id       TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL,
    registration_hash TEXT NOT NULL DEFAULT '',
    credential_hash   TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    registered_at     INTEGER,
    leased_at         INTEGER,
    last_used_at      INTEGER,
    last_heartbeat_at INTEGER,
    destroy_at        INTEGER,
    destroyed_at      INTEGER,
    destroy_reason    TEXT NOT NULL DEFAULT ''
) STRICT;

-- WorkerListExpired seeks (state, destroy_at <= now) per state, so its cost
-- follows the rows it returns and not the destroyed workers kept as history.
CREATE INDEX workers_state_destroy_at ON workers (state, destroy_at);
CREATE INDEX workers_destroy_at ON workers (destroy_at);
CREATE INDEX workers_acquire ON workers (tenant_id, pool_id, state, image, build);
CREATE UNIQUE INDEX workers_credential_hash ON workers (credential_hash) WHERE credential_hash <> '';
CREATE UNIQUE INDEX workers_registration_hash ON workers (registration_hash) WHERE registration_hash <> '';
