package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

const stepColumns = `id, task_id, idx, name, pool_id, syntax, script, container_image, requires,
	state, worker_id, exit_code, error, started_at, dispatched_at, finished_at`

const stepColumnsS = `s.id, s.task_id, s.idx, s.name, s.pool_id, s.syntax, s.script, s.container_image, s.requires,
	s.state, s.worker_id, s.exit_code, s.error, s.started_at, s.dispatched_at, s.finished_at`

func scanStep(sc scanner) (*store.Step, error) {
	var (
		st                          store.Step
		exit                        sql.NullInt64
		started, dispatched, finish sql.NullInt64
		requires                    string
	)
	if err := sc.Scan(&st.ID, &st.TaskID, &st.Index, &st.Name, &st.PoolID, &st.Syntax, &st.Script, &st.ContainerImage, &requires,
		&st.State, &st.WorkerID, &exit, &st.Error, &started, &dispatched, &finish); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(requires), &st.Requires); err != nil {
		return nil, fmt.Errorf("decode requires of step %s: %w", st.ID, err)
	}
	if len(st.Requires) == 0 {
		st.Requires = nil // none reads back as it was written: nil
	}
	st.ExitCode = decInt(exit)
	st.StartedAt = decTimePtr(started)
	st.DispatchedAt = decTimePtr(dispatched)
	st.FinishedAt = decTimePtr(finish)
	return &st, nil
}

// queryStepsByTask returns the steps selected by the clause that follows
// "FROM steps s" (a WHERE, or a JOIN with a WHERE), grouped by task id and
// in order within each task.
func queryStepsByTask(ctx context.Context, q querier, clause string, args ...any) (map[string][]*store.Step, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+stepColumnsS+` FROM steps s `+clause+` ORDER BY s.task_id, s.idx`, args...)
	if err != nil {
		return nil, fmt.Errorf("query steps: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]*store.Step)
	for rows.Next() {
		st, err := scanStep(rows)
		if err != nil {
			return nil, fmt.Errorf("query steps: %w", err)
		}
		out[st.TaskID] = append(out[st.TaskID], st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query steps: %w", err)
	}
	return out, nil
}

// StepGet returns the step id; ErrNotFound when there is none.
func (s *Store) StepGet(ctx context.Context, id string) (*store.Step, error) {
	st, err := scanStep(s.db.QueryRowContext(ctx, `SELECT `+stepColumnsS+` FROM steps s WHERE s.id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get step %s: %w", id, mapErr(err))
	}
	return st, nil
}

// StepUpdate writes State, WorkerID, ExitCode, Error, StartedAt,
// DispatchedAt and FinishedAt of st (by st.ID); ErrNotFound for an unknown
// id.
func (s *Store) StepUpdate(ctx context.Context, st *store.Step, fromStates ...string) error {
	err := s.casUpdate(ctx, "steps", st.ID, fromStates, `state = ?, worker_id = ?, exit_code = ?, error = ?,
		started_at = ?, dispatched_at = ?, finished_at = ?`,
		st.State, st.WorkerID, encInt(st.ExitCode), st.Error,
		encTimePtr(st.StartedAt), encTimePtr(st.DispatchedAt), encTimePtr(st.FinishedAt))
	if err != nil {
		return fmt.Errorf("update step %s: %w", st.ID, err)
	}
	return nil
}

// StepDispatch sets dispatched_at of step id if it is running and not
// dispatched yet; ErrConflict otherwise, ErrNotFound for an unknown id.
func (s *Store) StepDispatch(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE steps SET dispatched_at = ?
		WHERE id = ? AND state = 'running' AND dispatched_at IS NULL`, encTime(at), id)
	if err == nil {
		err = s.conflictOrMissing(ctx, res, "steps", id)
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
		WHERE s.worker_id = ? AND s.worker_id <> ''`
	args := []any{workerID}
	if len(states) > 0 {
		list, stateArgs := inList(states)
		query += ` AND s.state IN ` + list
		args = append(args, stateArgs...)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY t.created_at, t.id, s.idx`, args...)
	if err != nil {
		return nil, fmt.Errorf("list steps of worker %s: %w", workerID, err)
	}
	defer rows.Close()
	var out []*store.Step
	for rows.Next() {
		st, err := scanStep(rows)
		if err != nil {
			return nil, fmt.Errorf("list steps of worker %s: %w", workerID, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list steps of worker %s: %w", workerID, err)
	}
	return out, nil
}
