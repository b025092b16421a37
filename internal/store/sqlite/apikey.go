package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

// execer is what insertAPIKey needs of a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertAPIKey(ctx context.Context, db execer, k *store.APIKey) error {
	_, err := db.ExecContext(ctx, `INSERT INTO tenant_api_keys (id, tenant_id, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.Prefix, k.KeyHash, encTime(k.CreatedAt))
	return err
}

// APIKeyCreate adds k to its tenant; ErrNotFound for an unknown tenant,
// ErrConflict when its id or hash is taken.
func (s *Store) APIKeyCreate(ctx context.Context, k *store.APIKey) error {
	if err := insertAPIKey(ctx, s.db, k); err != nil {
		return fmt.Errorf("create API key %s: %w", k.ID, mapErr(err))
	}
	return nil
}

// APIKeyList returns tenantID's keys, oldest first.
func (s *Store) APIKeyList(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, tenant_id, prefix, key_hash, created_at FROM tenant_api_keys
		WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*store.APIKey
	for rows.Next() {
		var k store.APIKey
		var created int64
		if err := rows.Scan(&k.ID, &k.TenantID, &k.Prefix, &k.KeyHash, &created); err != nil {
			return nil, fmt.Errorf("list API keys of %s: %w", tenantID, err)
		}
		k.CreatedAt = decTime(created)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", tenantID, err)
	}
	return out, nil
}

// APIKeyDelete removes key id of tenantID; ErrNotFound when there is none.
func (s *Store) APIKeyDelete(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tenant_api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete API key %s: %w", id, err)
	}
	if err := checkAffected(res); err != nil {
		return fmt.Errorf("delete API key %s: %w", id, err)
	}
	return nil
}
