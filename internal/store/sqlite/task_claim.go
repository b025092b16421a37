package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// TaskClaim makes p.Owner the runner of unfinished task p.ID until
// p.Until, in one guarded UPDATE (no owner, p.Owner already, or a lease
// that ended at or before p.Now); SQLite runs one writer at a time, so two
// claimers never both succeed. ErrConflict when the guard does not hold or
// the task is finished; ErrNotFound for an unknown id.
func (s *Store) TaskClaim(ctx context.Context, p *store.TaskClaimParams) error {
	if p.Owner == "" {
		return fmt.Errorf("claim task %s: %w", p.ID, store.ErrNoOwner)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tasks SET owner = ?, owner_until = ?
		WHERE id = ? AND finished_at IS NULL
		AND (owner = '' OR owner = ? OR owner_until IS NULL OR owner_until <= ?)`,
		p.Owner, encTime(p.Until), p.ID, p.Owner, encTime(p.Now))
	if err == nil {
		err = s.conflictOrMissing(ctx, res, "tasks", p.ID)
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
	n, err := s.setOwnerUntil(ctx, owner, encTime(until))
	if err != nil {
		return 0, fmt.Errorf("renew tasks of %s: %w", owner, err)
	}
	return n, nil
}

// TaskRelease sets owner_until to the zero time (0) on every unfinished
// task of owner, keeping owner.
func (s *Store) TaskRelease(ctx context.Context, owner string) error {
	if owner == "" {
		return fmt.Errorf("release tasks: %w", store.ErrNoOwner)
	}
	if _, err := s.setOwnerUntil(ctx, owner, encTime(time.Time{})); err != nil {
		return fmt.Errorf("release tasks of %s: %w", owner, err)
	}
	return nil
}

// setOwnerUntil sets owner_until (encoded) on the unfinished tasks of
// owner and returns how many it changed.
func (s *Store) setOwnerUntil(ctx context.Context, owner string, until int64) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE tasks SET owner_until = ? WHERE owner = ? AND finished_at IS NULL`,
		until, owner)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return int(n), nil
}
