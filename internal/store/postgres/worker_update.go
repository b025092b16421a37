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
// p.FromStates is not empty the current state must be one of them, and
// with p.LastLease the worker must hold at most one lease, and when
// p.HeartbeatBefore is set the last heartbeat must be before it, else
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
	if p.LastLease {
		query += ` AND leases <= 1`
	}
	if p.HeartbeatBefore != nil {
		args = append(args, *p.HeartbeatBefore)
		query += fmt.Sprintf(` AND (last_heartbeat_at IS NULL OR last_heartbeat_at < $%d)`, len(args))
	}
	if p.HealthStatusIs != nil {
		args = append(args, *p.HealthStatusIs)
		query += fmt.Sprintf(` AND health_status = $%d`, len(args))
	}
	if p.HealthCheckedNotAfter != nil {
		args = append(args, *p.HealthCheckedNotAfter)
		query += fmt.Sprintf(` AND (health_checked_at IS NULL OR health_checked_at <= $%d)`, len(args))
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
// not exist (ErrNotFound) or fails one of the guards of p (ErrConflict).
func (s *Store) workerGuardFailed(ctx context.Context, p *store.WorkerUpdateParams) error {
	var cur store.Worker
	if err := s.pool.QueryRow(ctx, `SELECT state, leases, last_heartbeat_at, health_status, health_checked_at FROM workers WHERE id = $1`, p.ID).
		Scan(&cur.State, &cur.Leases, &cur.LastHeartbeatAt, &cur.HealthStatus, &cur.HealthCheckedAt); err != nil {
		return err // pgx.ErrNoRows: mapped to ErrNotFound
	}
	if err := store.WorkerGuardError(p, &cur); err != nil {
		return err
	}
	return fmt.Errorf("worker %s changed meanwhile: %w", p.ID, store.ErrConflict)
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
// p.TenantID, p.PoolID, p.Image and p.Build, not disabled nor failing its health check, whose DestroyAt is after p.Now
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
	// The outer condition is checked again on the locked row, so a lease
	// another transaction added meanwhile is counted.
	w, err := scanWorker(s.pool.QueryRow(ctx, `UPDATE workers SET state = $1, leases = leases + 1
		WHERE id = (
			SELECT id FROM workers
			WHERE tenant_id = $2 AND pool_id = $3 AND image = $5 AND build = $6 AND created_at > $9 AND NOT disabled AND health_status <> $10
				AND ((state = $4 AND (destroy_at IS NULL OR destroy_at > $7)) OR (state = $1 AND leases < $8))
			ORDER BY leases DESC, COALESCE(last_used_at, '0001-01-01 00:00:00+00'), created_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
			AND (state = $4 OR leases < $8)
		RETURNING `+workerColumns,
		api.WorkerBusy, p.TenantID, p.PoolID, api.WorkerIdle, p.Image, p.Build, p.Now, max(p.Capacity, 1), p.CreatedAfter, api.HealthFailed))
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
		w, err = scanWorker(tx.QueryRow(ctx, `UPDATE workers SET tenant_id = $1, pool_id = $2, state = $3, leased_at = $4, leases = 1
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

// WorkerReleaseLease implements store.Store.
func (s *Store) WorkerReleaseLease(ctx context.Context, id string) (*store.Worker, error) {
	w, err := scanWorker(s.pool.QueryRow(ctx, `UPDATE workers SET leases = leases - 1
		WHERE id = $1 AND state = $2 AND leases > 1
		RETURNING `+workerColumns, id, api.WorkerBusy))
	if errors.Is(err, pgx.ErrNoRows) {
		var state string
		var leases int
		if err = s.pool.QueryRow(ctx, `SELECT state, leases FROM workers WHERE id = $1`, id).Scan(&state, &leases); err == nil {
			err = store.LastLeaseError(state, leases)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("release a lease of worker %s: %w", id, mapErr(err))
	}
	return w, nil
}
