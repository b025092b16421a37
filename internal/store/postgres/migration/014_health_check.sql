-- +goose Up
-- Static pools, health checks: a static pool's machine policy may name a
-- script its agents run while idle (syntax and script; interval and
-- timeout in nanoseconds), and each static worker keeps the outcome of
-- its last check (health_status "" before the first, else healthy,
-- warning or failed; a failed worker gets no step), its message and when
-- the server recorded it.
ALTER TABLE pools ADD COLUMN health_check_syntax text NOT NULL DEFAULT '';
ALTER TABLE pools ADD COLUMN health_check_script text NOT NULL DEFAULT '';
ALTER TABLE pools ADD COLUMN health_check_interval bigint NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN health_check_timeout bigint NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN health_status text NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN health_message text NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN health_checked_at timestamptz;

-- +goose Down
ALTER TABLE workers DROP COLUMN health_checked_at;
ALTER TABLE workers DROP COLUMN health_message;
ALTER TABLE workers DROP COLUMN health_status;
ALTER TABLE pools DROP COLUMN health_check_timeout;
ALTER TABLE pools DROP COLUMN health_check_interval;
ALTER TABLE pools DROP COLUMN health_check_script;
ALTER TABLE pools DROP COLUMN health_check_syntax;
