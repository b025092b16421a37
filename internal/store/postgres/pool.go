package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

const poolColumns = `id, tenant_id, name, type, image, is_default, created_at, max_workers, capacity, heartbeat_interval, unavailable_after,
	health_check_syntax, health_check_script, health_check_interval, health_check_timeout`

func scanPool(row pgx.Row) (*store.Pool, error) {
	var (
		p                     store.Pool
		interval, unavailable int64
		hcInterval, hcTimeout int64
	)
	if err := row.Scan(&p.ID, &p.TenantID, &p.Name, &p.Type, &p.Image, &p.IsDefault, &p.CreatedAt, &p.MaxWorkers, &p.Capacity, &interval, &unavailable,
		&p.HealthCheck.Syntax, &p.HealthCheck.Script, &hcInterval, &hcTimeout); err != nil {
		return nil, err
	}
	p.HeartbeatInterval, p.UnavailableAfter = time.Duration(interval), time.Duration(unavailable)
	p.HealthCheck.Interval, p.HealthCheck.Timeout = time.Duration(hcInterval), time.Duration(hcTimeout)
	p.CreatedAt = utc(p.CreatedAt)
	return &p, nil
}

// lockTenant locks the row of tenantID until tx ends, so that changes of
// the tenant's default pool happen one at a time; ErrNotFound when the
// tenant does not exist. FOR NO KEY UPDATE leaves inserts that reference
// the tenant (they take KEY SHARE) unblocked.
func lockTenant(ctx context.Context, tx pgx.Tx, tenantID string) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID).Scan(&one)
}

// PoolCreate inserts p. ErrConflict when the tenant already has a pool of
// that name (or the id is taken); ErrNotFound when the tenant does not
// exist. If p.IsDefault, the tenant's other pools lose the flag in the same
// transaction.
func (s *Store) PoolCreate(ctx context.Context, p *store.Pool) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if p.IsDefault {
			if err := lockTenant(ctx, tx, p.TenantID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE pools SET is_default = false WHERE tenant_id = $1 AND is_default`, p.TenantID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO pools (`+poolColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			p.ID, p.TenantID, p.Name, p.Type, p.Image, p.IsDefault, p.CreatedAt, p.MaxWorkers, p.Capacity,
			int64(p.HeartbeatInterval), int64(p.UnavailableAfter),
			p.HealthCheck.Syntax, p.HealthCheck.Script, int64(p.HealthCheck.Interval), int64(p.HealthCheck.Timeout))
		return err
	})
	if err != nil {
		return fmt.Errorf("create pool %s: %w", p.Name, mapErr(err))
	}
	return nil
}

// PoolGet returns the tenant's pool whose id is idOrName, or else whose name
// is idOrName; ErrNotFound when neither matches within the tenant.
func (s *Store) PoolGet(ctx context.Context, tenantID, idOrName string) (*store.Pool, error) {
	p, err := scanPool(s.pool.QueryRow(ctx, `SELECT `+poolColumns+` FROM pools
		WHERE tenant_id = $1 AND (id = $2 OR name = $2)
		ORDER BY id = $2 DESC LIMIT 1`, tenantID, idOrName))
	if err != nil {
		return nil, fmt.Errorf("get pool %s: %w", idOrName, mapErr(err))
	}
	return p, nil
}

// PoolGetDefault returns the tenant's default pool; ErrNotFound when it has
// none.
func (s *Store) PoolGetDefault(ctx context.Context, tenantID string) (*store.Pool, error) {
	p, err := scanPool(s.pool.QueryRow(ctx,
		`SELECT `+poolColumns+` FROM pools WHERE tenant_id = $1 AND is_default LIMIT 1`, tenantID))
	if err != nil {
		return nil, fmt.Errorf("get default pool of tenant %s: %w", tenantID, mapErr(err))
	}
	return p, nil
}

// PoolList returns the tenant's pools, oldest first.
func (s *Store) PoolList(ctx context.Context, tenantID string) ([]*store.Pool, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+poolColumns+` FROM pools WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	out, err := collect(rows, err, scanPool)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return out, nil
}

// PoolUpdate writes Name, Image, IsDefault, MaxWorkers and the machine
// policy (with its health check) of p (by TenantID and ID),
// clearing the flag on the tenant's other pools when p.IsDefault.
// ErrNotFound for an unknown pool, ErrConflict on a duplicate name.
func (s *Store) PoolUpdate(ctx context.Context, p *store.Pool) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if p.IsDefault {
			if err := lockTenant(ctx, tx, p.TenantID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE pools SET is_default = false WHERE tenant_id = $1 AND id <> $2 AND is_default`,
				p.TenantID, p.ID); err != nil {
				return err
			}
		}
		// A changed or removed health check: the old outcomes say nothing.
		if _, err := tx.Exec(ctx, `UPDATE workers SET health_status = '', health_message = '', health_checked_at = NULL
			WHERE tenant_id = $1 AND pool_id = $2 AND EXISTS (SELECT 1 FROM pools
				WHERE tenant_id = $1 AND id = $2 AND (health_check_syntax <> $3 OR health_check_script <> $4))`,
			p.TenantID, p.ID, p.HealthCheck.Syntax, p.HealthCheck.Script); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE pools SET name = $1, image = $2, is_default = $3, max_workers = $4, capacity = $5,
			heartbeat_interval = $6, unavailable_after = $7, health_check_syntax = $8, health_check_script = $9,
			health_check_interval = $10, health_check_timeout = $11 WHERE tenant_id = $12 AND id = $13`,
			p.Name, p.Image, p.IsDefault, p.MaxWorkers, p.Capacity, int64(p.HeartbeatInterval), int64(p.UnavailableAfter),
			p.HealthCheck.Syntax, p.HealthCheck.Script, int64(p.HealthCheck.Interval), int64(p.HealthCheck.Timeout), p.TenantID, p.ID)
		if err != nil {
			return err
		}
		return checkAffected(tag)
	})
	if err != nil {
		return fmt.Errorf("update pool %s: %w", p.ID, mapErr(err))
	}
	return nil
}

// PoolDelete removes the tenant's pool id; ErrNotFound when there is none.
func (s *Store) PoolDelete(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM pools WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("delete pool %s: %w", id, mapErr(err))
	}
	return nil
}
