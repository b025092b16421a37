package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

const stepColumns = `id, task_id, idx, name, pool_id, syntax, script, container_image, requires,
	state, worker_id, exit_code, error, started_at, dispatched_at, finished_at`

const stepColumnsS = `s.id, s.task_id, s.idx, s.name, s.pool_id, s.syntax, s.script, s.container_image, s.requires,
	s.state, s.worker_id, s.exit_code, s.error, s.started_at, s.dispatched_at, s.finished_at`

func scanStep(row pgx.Row) (*store.Step, error) {
	var st store.Step
	if err := row.Scan(&st.ID, &st.TaskID, &st.Index, &st.Name, &st.PoolID, &st.Syntax, &st.Script, &st.ContainerImage, &st.Requires,
		&st.State, &st.WorkerID, &st.ExitCode, &st.Error, &st.StartedAt, &st.DispatchedAt, &st.FinishedAt); err != nil {
		return nil, err
	}
	if len(st.Requires) == 0 {
		st.Requires = nil // none reads back as it was written: nil
	}
	st.StartedAt = utcPtr(st.StartedAt)
	st.DispatchedAt = utcPtr(st.DispatchedAt)
	st.FinishedAt = utcPtr(st.FinishedAt)
	return &st, nil
}

// queryStepsByTask returns the steps of the tasks taskIDs, grouped by task
// id and in order within each task.
func queryStepsByTask(ctx context.Context, q querier, taskIDs []string) (map[string][]*store.Step, error) {
	rows, err := q.Query(ctx, `SELECT `+stepColumns+` FROM steps WHERE task_id = ANY($1) ORDER BY task_id, idx`, taskIDs)
	steps, err := collect(rows, err, scanStep)
	if err != nil {
		return nil, fmt.Errorf("query steps: %w", err)
	}
	out := make(map[string][]*store.Step)
	for _, st := range steps {
		out[st.TaskID] = append(out[st.TaskID], st)
	}
	return out, nil
}

// StepGet returns the step id; ErrNotFound when there is none.
func (s *Store) StepGet(ctx context.Context, id string) (*store.Step, error) {
	st, err := scanStep(s.pool.QueryRow(ctx, `SELECT `+stepColumns+` FROM steps WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get step %s: %w", id, mapErr(err))
	}
	return st, nil
}

// StepUpdate writes State, WorkerID, ExitCode, Error, StartedAt,
// DispatchedAt and FinishedAt of st (by st.ID); ErrNotFound for an unknown
// id. When fromStates is not empty the step's current state must be one
// of them, else ErrConflict.
func (s *Store) StepUpdate(ctx context.Context, st *store.Step, fromStates ...string) error {
	err := s.casUpdate(ctx, "steps", st.ID, fromStates, `state = $1, worker_id = $2, exit_code = $3, error = $4,
		started_at = $5, dispatched_at = $6, finished_at = $7`,
		st.State, st.WorkerID, st.ExitCode, st.Error, st.StartedAt, st.DispatchedAt, st.FinishedAt)
	if err != nil {
		return fmt.Errorf("update step %s: %w", st.ID, err)
	}
	return nil
}

// StepDispatch sets dispatched_at of step id if it is running and not
// dispatched yet; ErrConflict otherwise, ErrNotFound for an unknown id.
// Of concurrent callers exactly one succeeds.
func (s *Store) StepDispatch(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE steps SET dispatched_at = $1
		WHERE id = $2 AND state = 'running' AND dispatched_at IS NULL`, at, id)
	if err == nil {
		err = s.conflictOrMissing(ctx, tag, "steps", id)
	}
	if err != nil {
		return fmt.Errorf("dispatch step %s: %w", id, err)
	}
	return nil
}

// StepListByWorker returns the steps assigned to workerID in any of states
// (every state when states is empty), oldest task first and in order
// within a task.
func (s *Store) StepListByWorker(ctx context.Context, workerID string, states ...string) ([]*store.Step, error) {
	query := `SELECT ` + stepColumnsS + ` FROM steps s JOIN tasks t ON t.id = s.task_id
		WHERE s.worker_id = $1 AND s.worker_id <> ''`
	args := []any{workerID}
	if len(states) > 0 {
		query += ` AND s.state = ANY($2)`
		args = append(args, states)
	}
	rows, err := s.pool.Query(ctx, query+` ORDER BY t.created_at, t.id, s.idx`, args...)
	out, err := collect(rows, err, scanStep)
	if err != nil {
		return nil, fmt.Errorf("list steps of worker %s: %w", workerID, err)
	}
	return out, nil
}
