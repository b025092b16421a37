package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// TaskClaim makes p.Owner the runner of unfinished task p.ID until
// p.Until, in one UPDATE whose guard (no owner, p.Owner already, or a
// lease that ended at or before p.Now) PostgreSQL re-checks on the newest
// row version after waiting for a concurrent claimer, so two claimers
// never both succeed. ErrConflict when the guard does not hold or the task
// is finished; ErrNotFound for an unknown id.
func (s *Store) TaskClaim(ctx context.Context, p *store.TaskClaimParams) error {
	if p.Owner == "" {
		return fmt.Errorf("claim task %s: %w", p.ID, store.ErrNoOwner)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE tasks SET owner = $2, owner_until = $3
		WHERE id = $1 AND finished_at IS NULL
		AND (owner = '' OR owner = $2 OR owner_until IS NULL OR owner_until <= $4)`,
		p.ID, p.Owner, p.Until, p.Now)
	if err == nil {
		err = s.conflictOrMissing(ctx, tag, "tasks", p.ID)
	}
	if err != nil {
		return fmt.Errorf("claim task %s for %s: %w", p.ID, p.Owner, mapErr(err))
	}
	return nil
}

// TaskRenew sets owner_until to until on every unfinished task of owner
// (through the partial index tasks_unfinished_owner) and returns how many
// it changed.
func (s *Store) TaskRenew(ctx context.Context, owner string, until time.Time) (int, error) {
	if owner == "" {
		return 0, fmt.Errorf("renew tasks: %w", store.ErrNoOwner)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE tasks SET owner_until = $2 WHERE owner = $1 AND finished_at IS NULL`,
		owner, until)
	if err != nil {
		return 0, fmt.Errorf("renew tasks of %s: %w", owner, err)
	}
	return int(tag.RowsAffected()), nil
}

// TaskRelease sets owner_until to the zero time (0001-01-01 UTC) on every
// unfinished task of owner, keeping owner.
func (s *Store) TaskRelease(ctx context.Context, owner string) error {
	if owner == "" {
		return fmt.Errorf("release tasks: %w", store.ErrNoOwner)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE tasks SET owner_until = $2 WHERE owner = $1 AND finished_at IS NULL`,
		owner, time.Time{}); err != nil {
		return fmt.Errorf("release tasks of %s: %w", owner, err)
	}
	return nil
}
