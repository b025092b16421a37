package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// RegistrationTokenCreate inserts k; ErrNotFound for an unknown tenant or
// pool, ErrConflict when its id or hash is taken.
func (s *Store) RegistrationTokenCreate(ctx context.Context, k *store.RegistrationToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO registration_tokens
		(id, tenant_id, pool_id, token_hash, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.PoolID, k.TokenHash, encTime(k.CreatedAt), encTime(k.ExpiresAt), encTimePtr(k.UsedAt))
	if err != nil {
		return fmt.Errorf("create registration token %s: %w", k.ID, mapErr(err))
	}
	return nil
}

// RegistrationTokenUse marks the unused, unexpired token hashing to hash
// used at now, in one statement, and returns it; ErrNotFound otherwise.
func (s *Store) RegistrationTokenUse(ctx context.Context, hash string, now time.Time) (*store.RegistrationToken, error) {
	var (
		k                         store.RegistrationToken
		created, expires, usedInt int64
	)
	err := s.db.QueryRowContext(ctx, `UPDATE registration_tokens SET used_at = ?
		WHERE token_hash = ? AND token_hash <> '' AND used_at IS NULL AND expires_at > ?
		RETURNING id, tenant_id, pool_id, token_hash, created_at, expires_at, used_at`,
		encTime(now), hash, encTime(now)).Scan(&k.ID, &k.TenantID, &k.PoolID, &k.TokenHash, &created, &expires, &usedInt)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("use registration token: %w", store.ErrNotFound)
		}
		return nil, fmt.Errorf("use registration token: %w", mapErr(err))
	}
	used := decTime(usedInt)
	k.CreatedAt, k.ExpiresAt, k.UsedAt = decTime(created), decTime(expires), &used
	return &k, nil
}
