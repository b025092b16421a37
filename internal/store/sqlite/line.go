package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// LineJoin implements store.LineStore.
func (s *Store) LineJoin(ctx context.Context, line, id string, now, expiresAt time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM lease_line WHERE expires_at < ?`, encTime(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO lease_line (id, line, expires_at) VALUES (?, ?, ?)`, id, line, encTime(expiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("join line %s: %w", line, mapErr(err))
	}
	return nil
}

// LineFirst implements store.LineStore.
// The renewal and the look need not be atomic, so neither runs in a
// transaction: a plain look (id "") only reads.
func (s *Store) LineFirst(ctx context.Context, line, id string, now, expiresAt time.Time) (string, error) {
	if id != "" {
		res, err := s.db.ExecContext(ctx, `UPDATE lease_line SET expires_at = ? WHERE id = ? AND line = ?`, encTime(expiresAt), id, line)
		if err != nil {
			return "", fmt.Errorf("first of line %s: %w", line, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return "", fmt.Errorf("first of line %s: %w", line, errors.Join(err, fmt.Errorf("waiter %s: %w", id, store.ErrNotFound)))
		}
	}
	var first string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM lease_line WHERE line = ? AND expires_at > ? ORDER BY seq LIMIT 1`,
		line, encTime(now)).Scan(&first)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("first of line %s: %w", line, err)
	}
	return first, nil
}

// LineLeave implements store.LineStore.
func (s *Store) LineLeave(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM lease_line WHERE id = ?`, id); err != nil {
		return fmt.Errorf("leave line: %w", err)
	}
	return nil
}
