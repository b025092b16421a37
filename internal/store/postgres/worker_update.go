package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// WorkerUpdate sets p.State (when not empty) and every non-nil field of p
// on worker p.ID in one statement, and returns the updated worker. When
// p.FromStates is not empty the current state must be one of them, else
// ErrConflict (the worker is left unchanged). ErrNotFound for an unknown
// id; ErrConflict when a hash set is taken by another worker.
func (s *Store) WorkerUpdate(ctx context.Context, p *store.WorkerUpdateParams) (*store.Worker, error) {
	sets, args := workerSets(p)
	args = append(args, p.ID)
	query := `UPDATE workers SET ` + strings.Join(sets, ", ") + fmt.Sprintf(` WHERE id = $%d`, len(args))
	if len(p.FromStates) > 0 {
		args = append(args, p.FromStates)
		query += fmt.Sprintf(` AND state = ANY($%d)`, len(args))
	}
	w, err := scanWorker(s.pool.QueryRow(ctx, query+` RETURNING `+workerColumns, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.workerGuardFailed(ctx, p)
	}
	if err != nil {
		return nil, fmt.Errorf("update worker %s: %w", p.ID, mapErr(err))
	}
	return w, nil
}

// workerGuardFailed tells why WorkerUpdate changed no row: the worker does
// not exist (ErrNotFound) or is in none of p.FromStates (ErrConflict).
func (s *Store) workerGuardFailed(ctx context.Context, p *store.WorkerUpdateParams) error {
	var state string
	if err := s.pool.QueryRow(ctx, `SELECT state FROM workers WHERE id = $1`, p.ID).Scan(&state); err != nil {
		return err // pgx.ErrNoRows: mapped to ErrNotFound
	}
	return fmt.Errorf("state %s is not one of %s: %w", state, strings.Join(p.FromStates, ", "), store.ErrConflict)
}

// workerSets returns the "column = $n" assignments for p, numbered from
// $1, and their arguments; with nothing to set it assigns state to itself.
func workerSets(p *store.WorkerUpdateParams) ([]string, []any) {
	var (
		sets []string
		args []any
	)
	for _, a := range p.Assignments() {
		args = append(args, a.Value)
		sets = append(sets, fmt.Sprintf("%s = $%d", a.Column, len(args)))
	}
	if len(sets) == 0 {
		sets = append(sets, "state = state")
	}
	return sets, args
}

// WorkerAcquireIdle marks busy, in one statement, the idle worker of
// p.TenantID, p.PoolID, p.Image and p.Build whose DestroyAt is after p.Now
// (or unset) and that was used least recently (never used counts as
// least, tied with a zero LastUsedAt as in the SQLite backend), and
// returns it. ErrNotFound when there is none.
//
// Two callers, on any connection or replica, never get the same worker:
// the candidate is locked FOR UPDATE SKIP LOCKED, so a concurrent caller
// passes over it to the next instead of waiting. The price of not waiting:
// an idle worker whose row another transaction holds at that moment (a
// WorkerUpdate, for the few milliseconds it runs) is passed over too, and
// the caller may see ErrNotFound although it stays idle.
func (s *Store) WorkerAcquireIdle(ctx context.Context, p *store.WorkerAcquireIdleParams) (*store.Worker, error) {
	w, err := scanWorker(s.pool.QueryRow(ctx, `UPDATE workers SET state = $1
		WHERE id = (
			SELECT id FROM workers
			WHERE tenant_id = $2 AND pool_id = $3 AND state = $4 AND image = $5 AND build = $6
				AND (destroy_at IS NULL OR destroy_at > $7)
			ORDER BY COALESCE(last_used_at, '0001-01-01 00:00:00+00'), created_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING `+workerColumns,
		api.WorkerBusy, p.TenantID, p.PoolID, api.WorkerIdle, p.Image, p.Build, p.Now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("acquire idle worker in pool %s: %w", p.PoolID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("acquire idle worker in pool %s: %w", p.PoolID, err)
	}
	return w, nil
}

// WorkerLeaseStandby implements store.Store.
func (s *Store) WorkerLeaseStandby(ctx context.Context, p *store.WorkerLeaseStandbyParams) (*store.Worker, error) {
	var w *store.Worker
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkLimits(ctx, tx, p.TenantID, p.PoolID, "", store.WorkerLimits{Tenant: p.MaxLive, Pool: p.MaxPool}); err != nil {
			return err
		}
		var err error
		w, err = scanWorker(tx.QueryRow(ctx, `UPDATE workers SET tenant_id = $1, pool_id = $2, state = $3, leased_at = $4
			WHERE id = (
				SELECT id FROM workers
				WHERE tenant_id = '' AND state = $5 AND image = $6 AND build = $7
					AND (destroy_at IS NULL OR destroy_at > $4) AND created_at > $8
				ORDER BY created_at, id
				LIMIT 1
				FOR UPDATE SKIP LOCKED)
			RETURNING `+workerColumns,
			p.TenantID, p.PoolID, api.WorkerBusy, p.Now, api.WorkerIdle, p.Image, p.Build, p.CreatedAfter))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("lease standby worker of %s build %s: %w", p.Image, p.Build, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lease standby worker of %s build %s: %w", p.Image, p.Build, mapErr(err))
	}
	return w, nil
}
