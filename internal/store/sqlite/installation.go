package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InstallationID records proposed as the installation's id unless the
// one-row table installation holds one already, and returns the recorded
// id, both in one write transaction (so a second process waits for the
// first). An empty proposed is an error.
func (s *Store) InstallationID(ctx context.Context, proposed string) (string, error) {
	if proposed == "" {
		return "", errors.New("installation id: none proposed")
	}
	var id string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO installation (one, id) VALUES (1, ?) ON CONFLICT DO NOTHING`, proposed); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM installation`).Scan(&id)
	})
	if err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	return id, nil
}
