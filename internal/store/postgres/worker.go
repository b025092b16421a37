package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

const workerColumns = `id, tenant_id, pool_id, image, build, provider, resource_id, state,
	registration_hash, credential_hash, created_at, registered_at, leased_at, last_used_at,
	last_heartbeat_at, destroy_at, destroyed_at, destroy_reason, name, leases, agent_version, disabled,
	health_status, health_message, health_checked_at`

func scanWorker(row pgx.Row) (*store.Worker, error) {
	var w store.Worker
	if err := row.Scan(&w.ID, &w.TenantID, &w.PoolID, &w.Image, &w.Build, &w.Provider, &w.ResourceID, &w.State,
		&w.RegistrationHash, &w.CredentialHash, &w.CreatedAt, &w.RegisteredAt, &w.LeasedAt, &w.LastUsedAt,
		&w.LastHeartbeatAt, &w.DestroyAt, &w.DestroyedAt, &w.DestroyReason, &w.Name, &w.Leases, &w.AgentVersion, &w.Disabled,
		&w.HealthStatus, &w.HealthMessage, &w.HealthCheckedAt); err != nil {
		return nil, err
	}
	w.CreatedAt = utc(w.CreatedAt)
	for _, p := range []**time.Time{&w.RegisteredAt, &w.LeasedAt, &w.LastUsedAt, &w.LastHeartbeatAt, &w.DestroyAt, &w.DestroyedAt, &w.HealthCheckedAt} {
		*p = utcPtr(*p)
	}
	return &w, nil
}

// WorkerCreate inserts w; ErrConflict when its id, credential hash or
// registration hash is taken.
func (s *Store) WorkerCreate(ctx context.Context, w *store.Worker, limits store.WorkerLimits) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkLimits(ctx, tx, w.TenantID, w.PoolID, w.Provider, limits); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO workers (`+workerColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
			w.ID, w.TenantID, w.PoolID, w.Image, w.Build, w.Provider, w.ResourceID, w.State,
			w.RegistrationHash, w.CredentialHash, w.CreatedAt, w.RegisteredAt,
			w.LeasedAt, w.LastUsedAt, w.LastHeartbeatAt, w.DestroyAt, w.DestroyedAt, w.DestroyReason, w.Name, w.Leases, w.AgentVersion, w.Disabled,
			w.HealthStatus, w.HealthMessage, w.HealthCheckedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create worker %s: %w", w.ID, mapErr(err))
	}
	return nil
}

// checkLimits answers a *store.LimitError when a worker of tenant, pool
// and provider would exceed one of limits (tenant "" is a standby worker,
// bound by no tenant or pool limit). Locks serialize the checks across
// servers, so that count and insert (or lease) cannot interleave: the
// tenant's row for the tenant and pool limits, a transaction-scoped
// advisory lock per provider for the provider-wide ones.
func checkLimits(ctx context.Context, tx pgx.Tx, tenant, pool, provider string, limits store.WorkerLimits) error {
	if (limits.Tenant > 0 || limits.Pool > 0) && tenant != "" {
		// One lock for both: a pool's workers are its tenant's.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenant); err != nil {
			return err
		}
	}
	if limits.Tenant > 0 && tenant != "" {
		if err := countAtMost(ctx, tx, store.LimitTenant, limits.Tenant,
			`tenant_id = $1 AND provider <> $3 AND state = ANY($2)`, tenant, store.LiveWorkerStates, store.ProviderStatic); err != nil {
			return err
		}
	}
	if limits.Pool > 0 && tenant != "" && pool != "" {
		if err := countAtMost(ctx, tx, store.LimitPool, limits.Pool,
			`tenant_id = $1 AND pool_id = $2 AND state = ANY($3)`, tenant, pool, store.LiveWorkerStates); err != nil {
			return err
		}
	}
	if limits.Provider <= 0 && limits.Provisioning <= 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('dynpool provider ' || $1))`, provider); err != nil {
		return err
	}
	if limits.Provider > 0 {
		if err := countAtMost(ctx, tx, store.LimitProvider, limits.Provider,
			`provider = $1 AND state = ANY($2)`, provider, store.LiveWorkerStates); err != nil {
			return err
		}
	}
	if limits.Provisioning > 0 {
		if err := countAtMost(ctx, tx, store.LimitProvisioning, limits.Provisioning,
			`provider = $1 AND state = $2`, provider, api.WorkerProvisioning); err != nil {
			return err
		}
	}
	return nil
}

// countAtMost answers a *store.LimitError of scope when the workers
// matching where number max or more.
func countAtMost(ctx context.Context, tx pgx.Tx, scope string, max int, where string, args ...any) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM workers WHERE `+where, args...).Scan(&n); err != nil {
		return err
	}
	if n >= max {
		return &store.LimitError{Scope: scope, Max: max}
	}
	return nil
}

// WorkerGet returns the worker id; ErrNotFound when there is none.
func (s *Store) WorkerGet(ctx context.Context, id string) (*store.Worker, error) {
	w, err := scanWorker(s.pool.QueryRow(ctx, `SELECT `+workerColumns+` FROM workers WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get worker %s: %w", id, mapErr(err))
	}
	return w, nil
}

// WorkerGetByCredentialHash returns the worker, neither destroyed nor lost,
// whose agent credential hashes to hash; ErrNotFound otherwise (also for
// an empty hash).
func (s *Store) WorkerGetByCredentialHash(ctx context.Context, hash string) (*store.Worker, error) {
	w, err := scanWorker(s.pool.QueryRow(ctx, `SELECT `+workerColumns+` FROM workers
		WHERE credential_hash = $1 AND credential_hash <> '' AND state <> ALL($2)`,
		hash, []string{api.WorkerDestroyed, api.WorkerLost}))
	if err != nil {
		return nil, fmt.Errorf("get worker by credential: %w", mapErr(err))
	}
	return w, nil
}

// WorkerGetByRegistrationHash returns the provisioning worker whose
// one-time registration token hashes to hash; ErrNotFound otherwise (also
// for an empty hash).
func (s *Store) WorkerGetByRegistrationHash(ctx context.Context, hash string) (*store.Worker, error) {
	w, err := scanWorker(s.pool.QueryRow(ctx, `SELECT `+workerColumns+` FROM workers
		WHERE registration_hash = $1 AND registration_hash <> '' AND state = $2`,
		hash, api.WorkerProvisioning))
	if err != nil {
		return nil, fmt.Errorf("get worker by registration: %w", mapErr(err))
	}
	return w, nil
}

// WorkerList returns the workers matching p, oldest first. Empty fields of
// p match everything.
func (s *Store) WorkerList(ctx context.Context, p *store.WorkerListParams) ([]*store.Worker, error) {
	query := `SELECT ` + workerColumns + ` FROM workers WHERE true`
	var args []any
	if p.TenantID != "" {
		args = append(args, p.TenantID)
		query += fmt.Sprintf(` AND tenant_id = $%d`, len(args))
	}
	if p.PoolID != "" {
		args = append(args, p.PoolID)
		query += fmt.Sprintf(` AND pool_id = $%d`, len(args))
	}
	if p.Standby {
		query += ` AND tenant_id = ''`
	}
	if len(p.States) > 0 {
		args = append(args, p.States)
		query += fmt.Sprintf(` AND state = ANY($%d)`, len(args))
	}
	rows, err := s.pool.Query(ctx, query+` ORDER BY created_at, id`, args...)
	out, err := collect(rows, err, scanWorker)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return out, nil
}

// WorkerListExpired returns the workers in any of states (every state when
// states is empty) whose DestroyAt is at or before now, soonest due first.
// It can seek the (state, destroy_at) index, so its cost follows the
// number returned.
func (s *Store) WorkerListExpired(ctx context.Context, now time.Time, states ...string) ([]*store.Worker, error) {
	query := `SELECT ` + workerColumns + ` FROM workers WHERE destroy_at <= $1`
	args := []any{now}
	if len(states) > 0 {
		query += ` AND state = ANY($2)`
		args = append(args, states)
	}
	rows, err := s.pool.Query(ctx, query+` ORDER BY destroy_at, id`, args...)
	out, err := collect(rows, err, scanWorker)
	if err != nil {
		return nil, fmt.Errorf("list expired workers: %w", err)
	}
	return out, nil
}
