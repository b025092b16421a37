package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

// LogAppend appends lines to the log of taskID in one transaction, giving
// them Seq last+1, last+2, ... and writing each Seq back into lines once
// committed. ErrNotFound when the task does not exist.
//
// Concurrent appends to one task, from any connection or replica, never
// share or skip a Seq: each locks the task row (FOR NO KEY UPDATE, which
// leaves readers and foreign key checks alone) and only then reads the
// last Seq, in a statement of its own whose READ COMMITTED snapshot is
// taken after the lock was granted and so sees the lines of the append
// that held it.
func (s *Store) LogAppend(ctx context.Context, taskID string, lines []store.LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	times := make([]time.Time, len(lines))
	levels := make([]string, len(lines))
	steps := make([]string, len(lines))
	messages := make([]string, len(lines))
	for i, l := range lines {
		times[i], levels[i], steps[i], messages[i] = l.Time, l.Level, l.Step, l.Message
	}
	var last int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tasks WHERE id = $1 FOR NO KEY UPDATE`, taskID).Scan(&one); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE task_id = $1`, taskID).
			Scan(&last); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO log_lines (task_id, seq, time, level, step, message)
			SELECT $1, $2 + u.n, u.time, u.level, u.step, u.message
			FROM unnest($3::timestamptz[], $4::text[], $5::text[], $6::text[])
				WITH ORDINALITY AS u(time, level, step, message, n)`,
			taskID, last, times, levels, steps, messages)
		return err
	})
	if err != nil {
		return fmt.Errorf("append log of task %s: %w", taskID, mapErr(err))
	}
	for i := range lines {
		lines[i].Seq = last + int64(i) + 1
	}
	return nil
}

// LogList returns up to limit lines of the log of taskID with Seq >
// afterSeq, in Seq order; limit <= 0 means no limit. An unknown task has
// no lines.
func (s *Store) LogList(ctx context.Context, taskID string, afterSeq int64, limit int) ([]store.LogLine, error) {
	var limitArg *int64 // LIMIT NULL: no limit
	if limit > 0 {
		n := int64(limit)
		limitArg = &n
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, time, level, step, message FROM log_lines
		WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, taskID, afterSeq, limitArg)
	out, err := collect(rows, err, func(row pgx.Row) (store.LogLine, error) {
		var l store.LogLine
		err := row.Scan(&l.Seq, &l.Time, &l.Level, &l.Step, &l.Message)
		l.Time = utc(l.Time)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list log of task %s: %w", taskID, err)
	}
	return out, nil
}
