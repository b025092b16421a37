package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

// variableScope is the scope column of v: its step for a step input.
func variableScope(v *store.Variable) string {
	if v.Kind == store.VariableStep {
		return v.StepID
	}
	return ""
}

const upsertVariable = `INSERT INTO variables (task_id, kind, scope, name, step_id, value, sensitive, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (task_id, kind, scope, name) DO UPDATE SET
		step_id = excluded.step_id, value = excluded.value,
		sensitive = excluded.sensitive, updated_at = excluded.updated_at`

func variableArgs(taskID string, v *store.Variable) []any {
	return []any{taskID, v.Kind, variableScope(v), v.Name, v.StepID, v.Value, v.Sensitive, v.UpdatedAt}
}

// queueVariables adds the inserts of task t's inputs to TaskCreate's
// batch, setting each one's TaskID.
func queueVariables(b *pgx.Batch, t *store.Task) {
	for _, v := range t.Variables {
		v.TaskID = t.ID
		b.Queue(upsertVariable, variableArgs(t.ID, v)...)
	}
}

// VariableSet inserts or replaces v; ErrNotFound for an unknown task.
func (s *Store) VariableSet(ctx context.Context, v *store.Variable) error {
	if _, err := s.pool.Exec(ctx, upsertVariable, variableArgs(v.TaskID, v)...); err != nil {
		return fmt.Errorf("set variable %s of task %s: %w", v.Name, v.TaskID, mapErr(err))
	}
	return nil
}

// VariableList returns the variables of taskID by kind, step and name.
func (s *Store) VariableList(ctx context.Context, taskID string) ([]*store.Variable, error) {
	rows, err := s.pool.Query(ctx, `SELECT task_id, kind, step_id, name, value, sensitive, updated_at
		FROM variables WHERE task_id = $1 ORDER BY kind, step_id, name`, taskID)
	out, err := collect(rows, err, func(r pgx.Row) (*store.Variable, error) {
		var v store.Variable
		if err := r.Scan(&v.TaskID, &v.Kind, &v.StepID, &v.Name, &v.Value, &v.Sensitive, &v.UpdatedAt); err != nil {
			return nil, err
		}
		v.UpdatedAt = utc(v.UpdatedAt)
		return &v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list variables of task %s: %w", taskID, err)
	}
	return out, nil
}
