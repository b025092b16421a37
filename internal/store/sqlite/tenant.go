package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

const tenantColumns = `id, name, api_key_hash, idle_timeout, max_lifetime, max_workers, created_at`

func scanTenant(sc scanner) (*store.Tenant, error) {
	var (
		t                   store.Tenant
		idle, life, created int64
	)
	if err := sc.Scan(&t.ID, &t.Name, &t.APIKeyHash, &idle, &life, &t.MaxWorkers, &created); err != nil {
		return nil, err
	}
	t.IdleTimeout = time.Duration(idle)
	t.MaxLifetime = time.Duration(life)
	t.CreatedAt = decTime(created)
	return &t, nil
}

// TenantCreate inserts t and, when it has one, its first API key;
// ErrConflict when its id or API key hash is taken.
func (s *Store) TenantCreate(ctx context.Context, t *store.Tenant) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.APIKeyHash, int64(t.IdleTimeout), int64(t.MaxLifetime), t.MaxWorkers, encTime(t.CreatedAt)); err != nil {
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
	t, err := scanTenant(s.db.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get tenant %s: %w", id, mapErr(err))
	}
	return t, nil
}

// TenantGetByKeyHash returns the tenant whose API key hashes to hash;
// ErrNotFound when there is none or hash is empty.
func (s *Store) TenantGetByKeyHash(ctx context.Context, hash string) (*store.Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx,
		`SELECT `+tenantColumns+` FROM tenants WHERE id = (SELECT tenant_id FROM tenant_api_keys WHERE key_hash = ? AND key_hash <> '')`, hash))
	if err != nil {
		return nil, fmt.Errorf("get tenant by key: %w", mapErr(err))
	}
	return t, nil
}

// TenantList returns every tenant, oldest first.
func (s *Store) TenantList(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []*store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// TenantUpdate writes IdleTimeout, MaxLifetime and MaxWorkers of t (by
// t.ID); ErrNotFound for an unknown id.
func (s *Store) TenantUpdate(ctx context.Context, t *store.Tenant) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tenants SET idle_timeout = ?, max_lifetime = ?, max_workers = ? WHERE id = ?`,
		int64(t.IdleTimeout), int64(t.MaxLifetime), t.MaxWorkers, t.ID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("update tenant %s: %w", t.ID, mapErr(err))
	}
	return nil
}
