package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dynpool/dynpool/internal/store"
)

// TaskList returns p.TenantID's newest p.Limit tasks with their steps,
// newest first, through the index tasks_tenant_created.
func (s *Store) TaskList(ctx context.Context, p *store.TaskListParams) ([]*store.Task, error) {
	if p.TenantID == "" || p.Limit < 1 {
		return nil, errors.New("list tasks: a tenant and a limit of 1 or more are required")
	}
	var out []*store.Task
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks t
			WHERE t.tenant_id = ? ORDER BY t.created_at DESC, t.id DESC LIMIT ?`, p.TenantID, p.Limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		if err := rows.Err(); err != nil || len(out) == 0 {
			return err
		}
		ids := make([]any, len(out))
		for i, t := range out {
			ids[i] = t.ID
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		steps, err := queryStepsByTask(ctx, tx, `WHERE s.task_id IN (`+marks+`)`, ids...)
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
