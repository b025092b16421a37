package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

// RegistrationTokenCreate inserts k; ErrNotFound for an unknown tenant or
// pool, ErrConflict when its id or hash is taken.
func (s *Store) RegistrationTokenCreate(ctx context.Context, k *store.RegistrationToken) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO registration_tokens
		(id, tenant_id, pool_id, token_hash, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.TenantID, k.PoolID, k.TokenHash, k.CreatedAt, k.ExpiresAt, k.UsedAt)
	if err != nil {
		return fmt.Errorf("create registration token %s: %w", k.ID, mapErr(err))
	}
	return nil
}

// RegistrationTokenUse marks the unused, unexpired token hashing to hash
// used at now, in one statement, and returns it; ErrNotFound otherwise.
func (s *Store) RegistrationTokenUse(ctx context.Context, hash string, now time.Time) (*store.RegistrationToken, error) {
	var k store.RegistrationToken
	err := s.pool.QueryRow(ctx, `UPDATE registration_tokens SET used_at = $1
		WHERE token_hash = $2 AND token_hash <> '' AND used_at IS NULL AND expires_at > $1
		RETURNING id, tenant_id, pool_id, token_hash, created_at, expires_at, used_at`,
		now, hash).Scan(&k.ID, &k.TenantID, &k.PoolID, &k.TokenHash, &k.CreatedAt, &k.ExpiresAt, &k.UsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("use registration token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("use registration token: %w", mapErr(err))
	}
	k.CreatedAt, k.ExpiresAt, k.UsedAt = utc(k.CreatedAt), utc(k.ExpiresAt), utcPtr(k.UsedAt)
	return &k, nil
}
