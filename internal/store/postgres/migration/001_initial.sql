-- Initial schema, the PostgreSQL twin of the SQLite backend's. Times are
-- timestamptz (an instant, microsecond precision; NULL for an unset
-- optional time, 0001-01-01 UTC for a zero time); durations are bigint
-- nanoseconds. Tables go to the first schema of the search_path.

-- +goose Up
CREATE TABLE tenants (
    id           text PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    api_key_hash text NOT NULL DEFAULT '',
    idle_timeout bigint NOT NULL DEFAULT 0,
    max_lifetime bigint NOT NULL DEFAULT 0,
    max_workers  integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX tenants_api_key_hash ON tenants (api_key_hash) WHERE api_key_hash <> '';

CREATE TABLE pools (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    type       text NOT NULL,
    image      text NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    UNIQUE (tenant_id, name)
);

-- At most one default pool per tenant. PoolCreate and PoolUpdate clear the
-- flag elsewhere first under a lock on the tenant row, so this index only
-- guards against a writer that does not.
CREATE UNIQUE INDEX pools_one_default ON pools (tenant_id) WHERE is_default;

CREATE TABLE tasks (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text NOT NULL,
    state       text NOT NULL,
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    finished_at timestamptz
);

-- The runner resumes unfinished tasks at start; finished ones are history.
CREATE INDEX tasks_unfinished ON tasks (created_at, id) WHERE finished_at IS NULL;

CREATE TABLE steps (
    id              text PRIMARY KEY,
    task_id         text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    idx             integer NOT NULL,
    name            text NOT NULL,
    pool_id         text NOT NULL,
    syntax          text NOT NULL,
    script          text NOT NULL,
    container_image text NOT NULL DEFAULT '',
    state           text NOT NULL,
    worker_id       text NOT NULL DEFAULT '',
    exit_code       integer,
    error           text NOT NULL DEFAULT '',
    started_at      timestamptz,
    dispatched_at   timestamptz,
    finished_at     timestamptz,
    UNIQUE (task_id, idx)
);

CREATE INDEX steps_worker_id ON steps (worker_id) WHERE worker_id <> '';

CREATE TABLE log_lines (
    task_id text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq     bigint NOT NULL,
    time    timestamptz NOT NULL,
    level   text NOT NULL,
    step    text NOT NULL DEFAULT '',
    message text NOT NULL,
    PRIMARY KEY (task_id, seq)
);

-- Workers carry no foreign keys: a standby worker has no tenant or pool yet,
-- and a worker outlives the pool it was made for.
CREATE TABLE workers (
    id                text PRIMARY KEY,
    tenant_id         text NOT NULL DEFAULT '',
    pool_id           text NOT NULL DEFAULT '',
    image             text NOT NULL,
    build             text NOT NULL,
    provider          text NOT NULL,
    resource_id       text NOT NULL DEFAULT '',
    state             text NOT NULL,
    registration_hash text NOT NULL DEFAULT '',
    credential_hash   text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    registered_at     timestamptz,
    leased_at         timestamptz,
    last_used_at      timestamptz,
    last_heartbeat_at timestamptz,
    destroy_at        timestamptz,
    destroyed_at      timestamptz,
    destroy_reason    text NOT NULL DEFAULT ''
);

-- WorkerListExpired seeks (state, destroy_at <= now) per state, so its cost
-- follows the rows it returns and not the destroyed workers kept as history.
CREATE INDEX workers_state_destroy_at ON workers (state, destroy_at);
CREATE INDEX workers_destroy_at ON workers (destroy_at);
CREATE INDEX workers_acquire ON workers (tenant_id, pool_id, state, image, build);
CREATE UNIQUE INDEX workers_credential_hash ON workers (credential_hash) WHERE credential_hash <> '';
CREATE UNIQUE INDEX workers_registration_hash ON workers (registration_hash) WHERE registration_hash <> '';

-- +goose Down
DROP TABLE workers;
DROP TABLE log_lines;
DROP TABLE steps;
DROP TABLE tasks;
DROP TABLE pools;
DROP TABLE tenants;
