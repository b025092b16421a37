package postgres

import (
	"context"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

func insertAPIKey(ctx context.Context, db querier, k *store.APIKey) error {
	_, err := db.Exec(ctx, `INSERT INTO tenant_api_keys (id, tenant_id, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.TenantID, k.Prefix, k.KeyHash, k.CreatedAt)
	return err
}

// APIKeyCreate adds k to its tenant; ErrNotFound for an unknown tenant,
// ErrConflict when its id or hash is taken.
func (s *Store) APIKeyCreate(ctx context.Context, k *store.APIKey) error {
	if err := insertAPIKey(ctx, s.pool, k); err != nil {
		return fmt.Errorf("create API key %s: %w", k.ID, mapErr(err))
	}
	return nil
}

// APIKeyList returns tenantID's keys, oldest first.
func (s *Store) APIKeyList(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, prefix, key_hash, created_at FROM tenant_api_keys
		WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*store.APIKey
	for rows.Next() {
		var k store.APIKey
		if err := rows.Scan(&k.ID, &k.TenantID, &k.Prefix, &k.KeyHash, &k.CreatedAt); err != nil {
			return nil, fmt.Errorf("list API keys of %s: %w", tenantID, err)
		}
		k.CreatedAt = utc(k.CreatedAt)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", tenantID, err)
	}
	return out, nil
}

// APIKeyDelete removes key id of tenantID; ErrNotFound when there is none.
func (s *Store) APIKeyDelete(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM tenant_api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete API key %s: %w", id, err)
	}
	if err := checkAffected(tag); err != nil {
		return fmt.Errorf("delete API key %s: %w", id, err)
	}
	return nil
}
