package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// WorkerUpdate sets p.State (when not empty) and every non-nil field of p
// on worker p.ID, and returns the updated worker. When p.FromStates is not
// empty the current state must be one of them, else ErrConflict (the
// worker is left unchanged), as when p.LastLease is set and the worker
// holds more than one lease or p.HeartbeatBefore is set and the worker's
// last heartbeat is not before it. ErrNotFound for an unknown id.
func (s *Store) WorkerUpdate(ctx context.Context, p *store.WorkerUpdateParams) (*store.Worker, error) {
	sets, args := workerSets(p)
	var w *store.Worker
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			cur                store.Worker
			heartbeat, checked sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, `SELECT state, leases, last_heartbeat_at, health_status, health_checked_at FROM workers WHERE id = ?`, p.ID).
			Scan(&cur.State, &cur.Leases, &heartbeat, &cur.HealthStatus, &checked); err != nil {
			return mapErr(err)
		}
		cur.LastHeartbeatAt, cur.HealthCheckedAt = decTimePtr(heartbeat), decTimePtr(checked)
		if err := store.WorkerGuardError(p, &cur); err != nil {
			return err
		}
		var err error
		w, err = scanWorker(tx.QueryRowContext(ctx, `UPDATE workers SET `+strings.Join(sets, ", ")+
			` WHERE id = ? RETURNING `+workerColumns, append(args, p.ID)...))
		return mapErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("update worker %s: %w", p.ID, err)
	}
	return w, nil
}

// workerSets returns the "column = ?" assignments for p and their
// arguments; with nothing to set it assigns state to itself.
func workerSets(p *store.WorkerUpdateParams) ([]string, []any) {
	var (
		sets []string
		args []any
	)
	for _, a := range p.Assignments() {
		v := a.Value
		if t, ok := v.(time.Time); ok {
			v = encTime(t)
		}
		sets = append(sets, a.Column+" = ?")
		args = append(args, v)
	}
	if len(sets) == 0 {
		sets = append(sets, "state = state")
	}
	return sets, args
}

// WorkerAcquireIdle marks busy, in one statement, the idle worker of
// p.TenantID, p.PoolID, p.Image and p.Build, not disabled nor failing its health check, whose DestroyAt is after p.Now
// (or unset) and that was used least recently (never used counts as
// least), and returns it. ErrNotFound when there is none. Two callers never
// get the same worker.
func (s *Store) WorkerAcquireIdle(ctx context.Context, p *store.WorkerAcquireIdleParams) (*store.Worker, error) {
	w, err := scanWorker(s.db.QueryRowContext(ctx, `UPDATE workers SET state = ?1, leases = leases + 1
		WHERE id = (
			SELECT id FROM workers
			WHERE tenant_id = ?2 AND pool_id = ?3 AND image = ?5 AND build = ?6 AND created_at > ?9 AND disabled = 0 AND health_status <> ?10
				AND ((state = ?4 AND (destroy_at IS NULL OR destroy_at > ?7)) OR (state = ?1 AND leases < ?8))
			ORDER BY leases DESC, COALESCE(last_used_at, 0), created_at, id
			LIMIT 1)
		RETURNING `+workerColumns,
		api.WorkerBusy, p.TenantID, p.PoolID, api.WorkerIdle, p.Image, p.Build, encTime(p.Now), max(p.Capacity, 1), encTime(p.CreatedAfter), api.HealthFailed))
	if errors.Is(err, sql.ErrNoRows) {
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkLimits(ctx, tx, p.TenantID, p.PoolID, "", store.WorkerLimits{Tenant: p.MaxLive, Pool: p.MaxPool}); err != nil {
			return err
		}
		var err error
		w, err = scanWorker(tx.QueryRowContext(ctx, `UPDATE workers SET tenant_id = ?, pool_id = ?, state = ?, leased_at = ?, leases = 1
			WHERE id = (
				SELECT id FROM workers
				WHERE tenant_id = '' AND state = ? AND image = ? AND build = ?
					AND (destroy_at IS NULL OR destroy_at > ?) AND created_at > ?
				ORDER BY created_at, id
				LIMIT 1)
			RETURNING `+workerColumns,
			p.TenantID, p.PoolID, api.WorkerBusy, encTime(p.Now), api.WorkerIdle, p.Image, p.Build, encTime(p.Now), encTime(p.CreatedAfter)))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lease standby worker of %s build %s: %w", p.Image, p.Build, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lease standby worker of %s build %s: %w", p.Image, p.Build, mapErr(err))
	}
	return w, nil
}

// WorkerReleaseLease implements store.Store.
func (s *Store) WorkerReleaseLease(ctx context.Context, id string) (*store.Worker, error) {
	w, err := scanWorker(s.db.QueryRowContext(ctx, `UPDATE workers SET leases = leases - 1
		WHERE id = ? AND state = ? AND leases > 1
		RETURNING `+workerColumns, id, api.WorkerBusy))
	if errors.Is(err, sql.ErrNoRows) {
		var state string
		var leases int
		if err = s.db.QueryRowContext(ctx, `SELECT state, leases FROM workers WHERE id = ?`, id).Scan(&state, &leases); err == nil {
			err = store.LastLeaseError(state, leases)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("release a lease of worker %s: %w", id, mapErr(err))
	}
	return w, nil
}
