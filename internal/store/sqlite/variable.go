package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (task_id, kind, scope, name) DO UPDATE SET
		step_id = excluded.step_id, value = excluded.value,
		sensitive = excluded.sensitive, updated_at = excluded.updated_at`

func variableArgs(taskID string, v *store.Variable) []any {
	return []any{taskID, v.Kind, variableScope(v), v.Name, v.StepID, v.Value, v.Sensitive, encTime(v.UpdatedAt)}
}

// insertVariables writes the inputs of task t inside TaskCreate's
// transaction, setting each one's TaskID.
func insertVariables(ctx context.Context, tx *sql.Tx, t *store.Task) error {
	for _, v := range t.Variables {
		v.TaskID = t.ID
		if _, err := tx.ExecContext(ctx, upsertVariable, variableArgs(t.ID, v)...); err != nil {
			return fmt.Errorf("variable %s: %w", v.Name, err)
		}
	}
	return nil
}

// VariableSet inserts or replaces v; ErrNotFound for an unknown task.
func (s *Store) VariableSet(ctx context.Context, v *store.Variable) error {
	if _, err := s.db.ExecContext(ctx, upsertVariable, variableArgs(v.TaskID, v)...); err != nil {
		return fmt.Errorf("set variable %s of task %s: %w", v.Name, v.TaskID, mapErr(err))
	}
	return nil
}

// VariableList returns the variables of taskID by kind, step and name.
func (s *Store) VariableList(ctx context.Context, taskID string) ([]*store.Variable, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT task_id, kind, step_id, name, value, sensitive, updated_at
		FROM variables WHERE task_id = ? ORDER BY kind, step_id, name`, taskID)
	if err != nil {
		return nil, fmt.Errorf("list variables of task %s: %w", taskID, err)
	}
	defer rows.Close()
	var out []*store.Variable
	for rows.Next() {
		var (
			v  store.Variable
			at int64
		)
		if err := rows.Scan(&v.TaskID, &v.Kind, &v.StepID, &v.Name, &v.Value, &v.Sensitive, &at); err != nil {
			return nil, fmt.Errorf("list variables of task %s: %w", taskID, err)
		}
		v.UpdatedAt = decTime(at)
		out = append(out, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list variables of task %s: %w", taskID, err)
	}
	return out, nil
}
