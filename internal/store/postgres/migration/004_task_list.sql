-- A tenant's task list, newest first (TaskList).

-- +goose Up
CREATE INDEX tasks_tenant_created ON tasks (tenant_id, created_at);

-- +goose Down
DROP INDEX tasks_tenant_created;
