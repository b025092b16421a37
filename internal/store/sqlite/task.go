package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

const taskColumns = `t.id, t.tenant_id, t.name, t.state, t.error, t.created_at, t.finished_at, t.owner, t.owner_until`

func scanTask(sc scanner) (*store.Task, error) {
	var (
		t        store.Task
		created  int64
		finished sql.NullInt64
		until    sql.NullInt64
	)
	if err := sc.Scan(&t.ID, &t.TenantID, &t.Name, &t.State, &t.Error, &created, &finished,
		&t.Owner, &until); err != nil {
		return nil, err
	}
	t.CreatedAt = decTime(created)
	t.FinishedAt = decTimePtr(finished)
	t.OwnerUntil = decTimePtr(until)
	return &t, nil
}

// TaskCreate inserts t and t.Steps in one transaction. Each step gets
// TaskID t.ID and Index its position in t.Steps, written back into the
// steps. ErrConflict when an id is taken; ErrNotFound when the tenant does
// not exist.
func (s *Store) TaskCreate(ctx context.Context, t *store.Task) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tasks
			(id, tenant_id, name, state, error, created_at, finished_at, owner, owner_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TenantID, t.Name, t.State, t.Error, encTime(t.CreatedAt), encTimePtr(t.FinishedAt),
			t.Owner, encTimePtr(t.OwnerUntil)); err != nil {
			return err
		}
		for i, st := range t.Steps {
			st.TaskID, st.Index = t.ID, i
			requires, err := json.Marshal(append([]string{}, st.Requires...))
			if err != nil {
				return fmt.Errorf("encode requires of step %d: %w", i, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO steps (`+stepColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				st.ID, st.TaskID, st.Index, st.Name, st.PoolID, st.Syntax, st.Script, st.ContainerImage, string(requires),
				st.State, st.WorkerID, encInt(st.ExitCode), st.Error,
				encTimePtr(st.StartedAt), encTimePtr(st.DispatchedAt), encTimePtr(st.FinishedAt)); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return insertVariables(ctx, tx, t)
	})
	if err != nil {
		return fmt.Errorf("create task %s: %w", t.ID, mapErr(err))
	}
	return nil
}

// TaskGet returns the task id with its steps in order. tenantID "" matches
// any tenant; otherwise another tenant's task is ErrNotFound.
func (s *Store) TaskGet(ctx context.Context, tenantID, id string) (*store.Task, error) {
	var t *store.Task
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks t
			WHERE t.id = ? AND (? = '' OR t.tenant_id = ?)`, id, tenantID, tenantID))
		if err != nil {
			return err
		}
		steps, err := queryStepsByTask(ctx, tx, `WHERE s.task_id = ?`, id)
		t.Steps = steps[id]
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get task %s: %w", id, mapErr(err))
	}
	return t, nil
}

// TaskListUnfinished returns the tasks whose finished_at is NULL with
// their steps, oldest first, through the partial index tasks_unfinished.
func (s *Store) TaskListUnfinished(ctx context.Context) ([]*store.Task, error) {
	const where = `WHERE t.finished_at IS NULL`
	var out []*store.Task
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks t `+where+` ORDER BY t.created_at, t.id`)
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
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		steps, err := queryStepsByTask(ctx, tx, `JOIN tasks t ON t.id = s.task_id `+where)
		for _, t := range out {
			t.Steps = steps[t.ID]
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return out, nil
}

// TaskUpdate writes State, Error and FinishedAt of t (by t.ID), not its
// Owner or OwnerUntil; ErrNotFound for an unknown id.
func (s *Store) TaskUpdate(ctx context.Context, t *store.Task, fromStates ...string) error {
	err := s.casUpdate(ctx, "tasks", t.ID, fromStates, `state = ?, error = ?, finished_at = ?`,
		t.State, t.Error, encTimePtr(t.FinishedAt))
	if err != nil {
		return fmt.Errorf("update task %s: %w", t.ID, err)
	}
	return nil
}
