package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

const workerColumns = `id, tenant_id, pool_id, image, build, provider, resource_id, state,
	registration_hash, credential_hash, created_at, registered_at, leased_at, last_used_at,
	last_heartbeat_at, destroy_at, destroyed_at, destroy_reason, name, leases, agent_version, disabled,
	health_status, health_message, health_checked_at`

func scanWorker(sc scanner) (*store.Worker, error) {
	var (
		w                                   store.Worker
		created                             int64
		registered, leased, used, heartbeat sql.NullInt64
		destroyAt, destroyed, checked       sql.NullInt64
	)
	if err := sc.Scan(&w.ID, &w.TenantID, &w.PoolID, &w.Image, &w.Build, &w.Provider, &w.ResourceID, &w.State,
		&w.RegistrationHash, &w.CredentialHash, &created, &registered, &leased, &used,
		&heartbeat, &destroyAt, &destroyed, &w.DestroyReason, &w.Name, &w.Leases, &w.AgentVersion, &w.Disabled,
		&w.HealthStatus, &w.HealthMessage, &checked); err != nil {
		return nil, err
	}
	w.CreatedAt = decTime(created)
	w.RegisteredAt = decTimePtr(registered)
	w.LeasedAt = decTimePtr(leased)
	w.LastUsedAt = decTimePtr(used)
	w.LastHeartbeatAt = decTimePtr(heartbeat)
	w.DestroyAt = decTimePtr(destroyAt)
	w.DestroyedAt = decTimePtr(destroyed)
	w.HealthCheckedAt = decTimePtr(checked)
	return &w, nil
}

// queryWorkers runs a query selecting workerColumns and scans every row.
func queryWorkers(ctx context.Context, q querier, query string, args ...any) ([]*store.Worker, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Worker
	for rows.Next() {
		w, err := scanWorker(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WorkerCreate inserts w; ErrConflict when its id, credential hash or
// registration hash is taken.
func (s *Store) WorkerCreate(ctx context.Context, w *store.Worker, limits store.WorkerLimits) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkLimits(ctx, tx, w.TenantID, w.PoolID, w.Provider, limits); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO workers (`+workerColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.TenantID, w.PoolID, w.Image, w.Build, w.Provider, w.ResourceID, w.State,
			w.RegistrationHash, w.CredentialHash, encTime(w.CreatedAt), encTimePtr(w.RegisteredAt),
			encTimePtr(w.LeasedAt), encTimePtr(w.LastUsedAt), encTimePtr(w.LastHeartbeatAt),
			encTimePtr(w.DestroyAt), encTimePtr(w.DestroyedAt), w.DestroyReason, w.Name, w.Leases, w.AgentVersion, w.Disabled,
			w.HealthStatus, w.HealthMessage, encTimePtr(w.HealthCheckedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create worker %s: %w", w.ID, mapErr(err))
	}
	return nil
}

// checkLimits answers a *store.LimitError when a worker of tenant, pool
// and provider would exceed one of limits (tenant "" is a standby worker,
// bound by no tenant or pool limit).
func checkLimits(ctx context.Context, tx *sql.Tx, tenant, pool, provider string, limits store.WorkerLimits) error {
	live, liveArgs := inList(store.LiveWorkerStates)
	checks := []struct {
		scope string
		max   int
		where string
		args  []any
	}{
		{store.LimitTenant, limits.Tenant, `tenant_id = ? AND tenant_id <> '' AND provider <> ? AND state IN ` + live, append([]any{tenant, store.ProviderStatic}, liveArgs...)},
		{store.LimitPool, limits.Pool, `tenant_id = ? AND pool_id = ? AND pool_id <> '' AND state IN ` + live, append([]any{tenant, pool}, liveArgs...)},
		{store.LimitProvider, limits.Provider, `provider = ? AND state IN ` + live, append([]any{provider}, liveArgs...)},
		{store.LimitProvisioning, limits.Provisioning, `provider = ? AND state = ?`, []any{provider, api.WorkerProvisioning}},
	}
	for _, c := range checks {
		if c.max <= 0 {
			continue
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workers WHERE `+c.where, c.args...).Scan(&n); err != nil {
			return err
		}
		if n >= c.max {
			return &store.LimitError{Scope: c.scope, Max: c.max}
		}
	}
	return nil
}

// WorkerGet returns the worker id; ErrNotFound when there is none.
func (s *Store) WorkerGet(ctx context.Context, id string) (*store.Worker, error) {
	w, err := scanWorker(s.db.QueryRowContext(ctx, `SELECT `+workerColumns+` FROM workers WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get worker %s: %w", id, mapErr(err))
	}
	return w, nil
}

// WorkerGetByCredentialHash returns the worker, neither destroyed nor lost,
// whose agent credential hashes to hash; ErrNotFound otherwise (also for
// an empty hash).
func (s *Store) WorkerGetByCredentialHash(ctx context.Context, hash string) (*store.Worker, error) {
	w, err := scanWorker(s.db.QueryRowContext(ctx, `SELECT `+workerColumns+` FROM workers
		WHERE credential_hash = ? AND credential_hash <> '' AND state NOT IN (?, ?)`,
		hash, api.WorkerDestroyed, api.WorkerLost))
	if err != nil {
		return nil, fmt.Errorf("get worker by credential: %w", mapErr(err))
	}
	return w, nil
}

// WorkerGetByRegistrationHash returns the provisioning worker whose
// one-time registration token hashes to hash; ErrNotFound otherwise (also
// for an empty hash).
func (s *Store) WorkerGetByRegistrationHash(ctx context.Context, hash string) (*store.Worker, error) {
	w, err := scanWorker(s.db.QueryRowContext(ctx, `SELECT `+workerColumns+` FROM workers
		WHERE registration_hash = ? AND registration_hash <> '' AND state = ?`,
		hash, api.WorkerProvisioning))
	if err != nil {
		return nil, fmt.Errorf("get worker by registration: %w", mapErr(err))
	}
	return w, nil
}

// WorkerList returns the workers matching p, oldest first. Empty fields of
// p match everything.
func (s *Store) WorkerList(ctx context.Context, p *store.WorkerListParams) ([]*store.Worker, error) {
	query := `SELECT ` + workerColumns + ` FROM workers WHERE 1 = 1`
	var args []any
	if p.TenantID != "" {
		query += ` AND tenant_id = ?`
		args = append(args, p.TenantID)
	}
	if p.Standby {
		query += ` AND tenant_id = ''`
	}
	if p.PoolID != "" {
		query += ` AND pool_id = ?`
		args = append(args, p.PoolID)
	}
	if len(p.States) > 0 {
		list, stateArgs := inList(p.States)
		query += ` AND state IN ` + list
		args = append(args, stateArgs...)
	}
	out, err := queryWorkers(ctx, s.db, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return out, nil
}

// WorkerListExpired returns the workers in any of states (every state when
// states is empty) whose DestroyAt is at or before now, soonest due first.
// It seeks the (state, destroy_at) index, so its cost follows the number
// returned.
func (s *Store) WorkerListExpired(ctx context.Context, now time.Time, states ...string) ([]*store.Worker, error) {
	query := `SELECT ` + workerColumns + ` FROM workers WHERE destroy_at <= ?`
	args := []any{encTime(now)}
	if len(states) > 0 {
		list, stateArgs := inList(states)
		query += ` AND state IN ` + list
		args = append(args, stateArgs...)
	}
	out, err := queryWorkers(ctx, s.db, query+` ORDER BY destroy_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list expired workers: %w", err)
	}
	return out, nil
}
