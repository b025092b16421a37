package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

const tenantColumns = `id, name, api_key_hash, idle_timeout, max_lifetime, max_workers, created_at`

func scanTenant(row pgx.Row) (*store.Tenant, error) {
	var (
		t          store.Tenant
		idle, life int64
	)
	if err := row.Scan(&t.ID, &t.Name, &t.APIKeyHash, &idle, &life, &t.MaxWorkers, &t.CreatedAt); err != nil {
		return nil, err
	}
	t.IdleTimeout = time.Duration(idle)
	t.MaxLifetime = time.Duration(life)
	t.CreatedAt = utc(t.CreatedAt)
	return &t, nil
}

// TenantCreate inserts t; ErrConflict when its id, name or API key hash is
// taken.
//
// With an API key hash it also stores the tenant's first API key.
func (s *Store) TenantCreate(ctx context.Context, t *store.Tenant) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.ID, t.Name, t.APIKeyHash, int64(t.IdleTimeout), int64(t.MaxLifetime), t.MaxWorkers, t.CreatedAt); err != nil {
			return err
		}
		if t.APIKeyHash == "" {
			return nil
		}
		return insertAPIKey(ctx, tx, &store.APIKey{ID: "k-" + t.ID, TenantID: t.ID, Prefix: t.APIKeyPrefix, KeyHash: t.APIKeyHash, CreatedAt: t.CreatedAt})
	})
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.ID, mapErr(err))
	}
	return nil
}

// TenantGet returns the tenant with id; ErrNotFound when there is none.
func (s *Store) TenantGet(ctx context.Context, id string) (*store.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get tenant %s: %w", id, mapErr(err))
	}
	return t, nil
}

// TenantGetByKeyHash returns the tenant whose API key hashes to hash;
// ErrNotFound when there is none or hash is empty.
func (s *Store) TenantGetByKeyHash(ctx context.Context, hash string) (*store.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx,
		`SELECT `+tenantColumns+` FROM tenants WHERE id = (SELECT tenant_id FROM tenant_api_keys WHERE key_hash = $1 AND key_hash <> '')`, hash))
	if err != nil {
		return nil, fmt.Errorf("get tenant by key: %w", mapErr(err))
	}
	return t, nil
}

// TenantList returns every tenant, oldest first.
func (s *Store) TenantList(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY created_at, id`)
	out, err := collect(rows, err, scanTenant)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// TenantUpdate writes IdleTimeout, MaxLifetime and MaxWorkers of t (by
// t.ID); ErrNotFound for an unknown id.
func (s *Store) TenantUpdate(ctx context.Context, t *store.Tenant) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tenants SET idle_timeout = $1, max_lifetime = $2, max_workers = $3 WHERE id = $4`,
		int64(t.IdleTimeout), int64(t.MaxLifetime), t.MaxWorkers, t.ID)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("update tenant %s: %w", t.ID, mapErr(err))
	}
	return nil
}
