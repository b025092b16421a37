package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

const poolColumns = `id, tenant_id, name, type, image, is_default, created_at, max_workers, capacity, heartbeat_interval, unavailable_after,
	health_check_syntax, health_check_script, health_check_interval, health_check_timeout`

func scanPool(sc scanner) (*store.Pool, error) {
	var (
		p                     store.Pool
		created               int64
		interval, unavailable int64
		hcInterval, hcTimeout int64
	)
	if err := sc.Scan(&p.ID, &p.TenantID, &p.Name, &p.Type, &p.Image, &p.IsDefault, &created, &p.MaxWorkers, &p.Capacity, &interval, &unavailable,
		&p.HealthCheck.Syntax, &p.HealthCheck.Script, &hcInterval, &hcTimeout); err != nil {
		return nil, err
	}
	p.HeartbeatInterval, p.UnavailableAfter = time.Duration(interval), time.Duration(unavailable)
	p.HealthCheck.Interval, p.HealthCheck.Timeout = time.Duration(hcInterval), time.Duration(hcTimeout)
	p.CreatedAt = decTime(created)
	return &p, nil
}

// PoolCreate inserts p. ErrConflict when the tenant already has a pool of
// that name (or the id is taken); ErrNotFound when the tenant does not
// exist. If p.IsDefault, the tenant's other pools lose the flag in the same
// transaction.
func (s *Store) PoolCreate(ctx context.Context, p *store.Pool) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if p.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE pools SET is_default = 0 WHERE tenant_id = ?`, p.TenantID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pools (`+poolColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.TenantID, p.Name, p.Type, p.Image, p.IsDefault, encTime(p.CreatedAt), p.MaxWorkers, p.Capacity,
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
	p, err := scanPool(s.db.QueryRowContext(ctx, `SELECT `+poolColumns+` FROM pools
		WHERE tenant_id = ? AND (id = ? OR name = ?)
		ORDER BY id = ? DESC LIMIT 1`, tenantID, idOrName, idOrName, idOrName))
	if err != nil {
		return nil, fmt.Errorf("get pool %s: %w", idOrName, mapErr(err))
	}
	return p, nil
}

// PoolGetDefault returns the tenant's default pool; ErrNotFound when it has
// none.
func (s *Store) PoolGetDefault(ctx context.Context, tenantID string) (*store.Pool, error) {
	p, err := scanPool(s.db.QueryRowContext(ctx,
		`SELECT `+poolColumns+` FROM pools WHERE tenant_id = ? AND is_default = 1 LIMIT 1`, tenantID))
	if err != nil {
		return nil, fmt.Errorf("get default pool of tenant %s: %w", tenantID, mapErr(err))
	}
	return p, nil
}

// PoolList returns the tenant's pools, oldest first.
func (s *Store) PoolList(ctx context.Context, tenantID string) ([]*store.Pool, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+poolColumns+` FROM pools WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	defer rows.Close()
	var out []*store.Pool
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, fmt.Errorf("list pools: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return out, nil
}

// PoolUpdate writes Name, Image, IsDefault, MaxWorkers and the machine
// policy (with its health check) of p (by TenantID and ID),
// clearing the flag on the tenant's other pools when p.IsDefault.
// ErrNotFound for an unknown pool, ErrConflict on a duplicate name.
func (s *Store) PoolUpdate(ctx context.Context, p *store.Pool) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if p.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE pools SET is_default = 0 WHERE tenant_id = ? AND id <> ?`,
				p.TenantID, p.ID); err != nil {
				return err
			}
		}
		// A changed or removed health check: the old outcomes say nothing.
		if _, err := tx.ExecContext(ctx, `UPDATE workers SET health_status = '', health_message = '', health_checked_at = NULL
			WHERE tenant_id = ?1 AND pool_id = ?2 AND EXISTS (SELECT 1 FROM pools
				WHERE tenant_id = ?1 AND id = ?2 AND (health_check_syntax <> ?3 OR health_check_script <> ?4))`,
			p.TenantID, p.ID, p.HealthCheck.Syntax, p.HealthCheck.Script); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE pools SET name = ?, image = ?, is_default = ?, max_workers = ?, capacity = ?,
			heartbeat_interval = ?, unavailable_after = ?, health_check_syntax = ?, health_check_script = ?,
			health_check_interval = ?, health_check_timeout = ? WHERE tenant_id = ? AND id = ?`,
			p.Name, p.Image, p.IsDefault, p.MaxWorkers, p.Capacity, int64(p.HeartbeatInterval), int64(p.UnavailableAfter),
			p.HealthCheck.Syntax, p.HealthCheck.Script, int64(p.HealthCheck.Interval), int64(p.HealthCheck.Timeout), p.TenantID, p.ID)
		if err != nil {
			return err
		}
		return checkAffected(res)
	})
	if err != nil {
		return fmt.Errorf("update pool %s: %w", p.ID, mapErr(err))
	}
	return nil
}

// PoolDelete removes the tenant's pool id; ErrNotFound when there is none.
func (s *Store) PoolDelete(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM pools WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("delete pool %s: %w", id, mapErr(err))
	}
	return nil
}
