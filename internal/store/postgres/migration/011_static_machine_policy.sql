-- +goose Up
-- Static pools, second part: a machine policy per static pool (heartbeat
-- interval and silence until unavailable, in nanoseconds; 0: the server's
-- defaults), and per static worker the version its agent reports and
-- whether its tenant disabled it (it then gets no step).
ALTER TABLE pools ADD COLUMN heartbeat_interval bigint NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN unavailable_after bigint NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN agent_version text NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE workers DROP COLUMN disabled;
ALTER TABLE workers DROP COLUMN agent_version;
ALTER TABLE pools DROP COLUMN unavailable_after;
ALTER TABLE pools DROP COLUMN heartbeat_interval;
