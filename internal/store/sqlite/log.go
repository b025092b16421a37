package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

// LogAppend appends lines to the log of taskID in one transaction, giving
// them Seq last+1, last+2, ... and writing each Seq back into lines once
// committed. ErrNotFound when the task does not exist. Concurrent appends
// to one task never share or skip a Seq.
func (s *Store) LogAppend(ctx context.Context, taskID string, lines []store.LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	var last int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE task_id = ?`, taskID).
			Scan(&last); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO log_lines (task_id, seq, time, level, step, message)
			VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, l := range lines {
			if _, err := stmt.ExecContext(ctx, taskID, last+int64(i)+1, encTime(l.Time), l.Level, l.Step, l.Message); err != nil {
				return err
			}
		}
		return nil
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
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, time, level, step, message FROM log_lines
		WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?`, taskID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list log of task %s: %w", taskID, err)
	}
	defer rows.Close()
	var out []store.LogLine
	for rows.Next() {
		var (
			l  store.LogLine
			at int64
		)
		if err := rows.Scan(&l.Seq, &at, &l.Level, &l.Step, &l.Message); err != nil {
			return nil, fmt.Errorf("list log of task %s: %w", taskID, err)
		}
		l.Time = decTime(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list log of task %s: %w", taskID, err)
	}
	return out, nil
}
