package postgres

import (
	"context"
	"errors"
	"fmt"
)

// InstallationID records proposed as the installation's id unless the
// one-row table installation holds one already, and returns the recorded
// id. Two servers starting at once both insert: the second waits for the
// first's row and does nothing (ON CONFLICT DO NOTHING), then its SELECT,
// a new statement, sees that row. An empty proposed is an error.
func (s *Store) InstallationID(ctx context.Context, proposed string) (string, error) {
	if proposed == "" {
		return "", errors.New("installation id: none proposed")
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO installation (id) VALUES ($1) ON CONFLICT DO NOTHING`, proposed); err != nil {
		return "", fmt.Errorf("record installation id: %w", err)
	}
	var id string
	if err := s.pool.QueryRow(ctx, `SELECT id FROM installation`).Scan(&id); err != nil {
		return "", fmt.Errorf("read installation id: %w", err)
	}
	return id, nil
}
