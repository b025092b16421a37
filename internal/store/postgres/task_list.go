package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

// TaskList returns p.TenantID's newest p.Limit tasks with their steps,
// newest first, read from one snapshot through the index
// tasks_tenant_created.
func (s *Store) TaskList(ctx context.Context, p *store.TaskListParams) ([]*store.Task, error) {
	if p.TenantID == "" || p.Limit < 1 {
		return nil, errors.New("list tasks: a tenant and a limit of 1 or more are required")
	}
	var out []*store.Task
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+taskColumns+` FROM tasks
			WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, p.TenantID, p.Limit)
		out, err = collect(rows, err, scanTask)
		if err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		for i, t := range out {
			ids[i] = t.ID
		}
		steps, err := queryStepsByTask(ctx, tx, ids)
		for _, t := range out {
			t.Steps = steps[t.ID]
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks of tenant %s: %w", p.TenantID, err)
	}
	return out, nil
}
