package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

// LineJoin implements store.LineStore.
func (s *Store) LineJoin(ctx context.Context, line, id string, now, expiresAt time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM lease_line WHERE expires_at < $1`, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO lease_line (id, line, expires_at) VALUES ($1, $2, $3)`, id, line, expiresAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("join line %s: %w", line, mapErr(err))
	}
	return nil
}

// LineFirst implements store.LineStore.
func (s *Store) LineFirst(ctx context.Context, line, id string, now, expiresAt time.Time) (string, error) {
	if id != "" {
		tag, err := s.pool.Exec(ctx, `UPDATE lease_line SET expires_at = $1 WHERE id = $2 AND line = $3`, expiresAt, id, line)
		if err != nil {
			return "", fmt.Errorf("first of line %s: %w", line, err)
		}
		if tag.RowsAffected() == 0 {
			return "", fmt.Errorf("first of line %s: waiter %s: %w", line, id, store.ErrNotFound)
		}
	}
	var first string
	err := s.pool.QueryRow(ctx, `SELECT id FROM lease_line WHERE line = $1 AND expires_at > $2 ORDER BY seq LIMIT 1`,
		line, now).Scan(&first)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("first of line %s: %w", line, err)
	}
	return first, nil
}

// LineLeave implements store.LineStore.
func (s *Store) LineLeave(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM lease_line WHERE id = $1`, id); err != nil {
		return fmt.Errorf("leave line: %w", err)
	}
	return nil
}
