package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

const taskColumns = `id, tenant_id, name, state, error, created_at, finished_at, owner, owner_until`

func scanTask(row pgx.Row) (*store.Task, error) {
	var t store.Task
	if err := row.Scan(&t.ID, &t.TenantID, &t.Name, &t.State, &t.Error, &t.CreatedAt, &t.FinishedAt,
		&t.Owner, &t.OwnerUntil); err != nil {
		return nil, err
	}
	t.CreatedAt = utc(t.CreatedAt)
	t.FinishedAt = utcPtr(t.FinishedAt)
	t.OwnerUntil = utcPtr(t.OwnerUntil)
	return &t, nil
}

// TaskCreate inserts t and t.Steps in one transaction, sent as one batch.
// Each step gets TaskID t.ID and Index its position in t.Steps, written
// back into the steps. ErrConflict when an id is taken; ErrNotFound when
// the tenant does not exist.
func (s *Store) TaskCreate(ctx context.Context, t *store.Task) error {
	var b pgx.Batch
	b.Queue(`INSERT INTO tasks (`+taskColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.TenantID, t.Name, t.State, t.Error, t.CreatedAt, t.FinishedAt, t.Owner, t.OwnerUntil)
	for i, st := range t.Steps {
		st.TaskID, st.Index = t.ID, i
		b.Queue(`INSERT INTO steps (`+stepColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			st.ID, st.TaskID, st.Index, st.Name, st.PoolID, st.Syntax, st.Script, st.ContainerImage,
			append([]string{}, st.Requires...), // nil would be NULL
			st.State, st.WorkerID, st.ExitCode, st.Error, st.StartedAt, st.DispatchedAt, st.FinishedAt)
	}
	queueVariables(&b, t)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, &b)
		for i := range b.Len() {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				if i == 0 {
					return err
				}
				if i > len(t.Steps) {
					return fmt.Errorf("variable %s: %w", t.Variables[i-1-len(t.Steps)].Name, err)
				}
				return fmt.Errorf("step %d: %w", i-1, err)
			}
		}
		return br.Close()
	})
	if err != nil {
		return fmt.Errorf("create task %s: %w", t.ID, mapErr(err))
	}
	return nil
}

// TaskGet returns the task id with its steps in order, read from one
// snapshot. tenantID "" matches any tenant; otherwise another tenant's
// task is ErrNotFound.
func (s *Store) TaskGet(ctx context.Context, tenantID, id string) (*store.Task, error) {
	var t *store.Task
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks
			WHERE id = $1 AND ($2 = '' OR tenant_id = $2)`, id, tenantID))
		if err != nil {
			return err
		}
		steps, err := queryStepsByTask(ctx, tx, []string{id})
		t.Steps = steps[id]
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get task %s: %w", id, mapErr(err))
	}
	return t, nil
}

// TaskListUnfinished returns the tasks whose finished_at is NULL with
// their steps, oldest first, read from one snapshot. The tasks come
// through the partial index tasks_unfinished and their steps by task id,
// so the cost follows the number returned.
func (s *Store) TaskListUnfinished(ctx context.Context) ([]*store.Task, error) {
	var out []*store.Task
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+taskColumns+` FROM tasks WHERE finished_at IS NULL ORDER BY created_at, id`)
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
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return out, nil
}

// TaskUpdate writes State, Error and FinishedAt of t (by t.ID), not its
// Owner or OwnerUntil; ErrNotFound for an unknown id. When fromStates is not empty the task's
// current state must be one of them, else ErrConflict.
func (s *Store) TaskUpdate(ctx context.Context, t *store.Task, fromStates ...string) error {
	err := s.casUpdate(ctx, "tasks", t.ID, fromStates, `state = $1, error = $2, finished_at = $3`,
		t.State, t.Error, t.FinishedAt)
	if err != nil {
		return fmt.Errorf("update task %s: %w", t.ID, err)
	}
	return nil
}
