package store

import (
	"context"
	"time"
)

// RegistrationTokenStore keeps the registration tokens of static pools:
// one-time secrets a tenant hands to a machine of its own so that the
// machine's agent can join the pool. Only a token's SHA-256 (hex) is kept.
type RegistrationTokenStore interface {
	// RegistrationTokenCreate inserts k; ErrNotFound when its tenant or
	// pool is unknown, ErrConflict when its id or hash is taken.
	RegistrationTokenCreate(ctx context.Context, k *RegistrationToken) error
	// RegistrationTokenUse atomically marks the token hashing to hash
	// used at now and returns it; ErrNotFound when there is none, it was
	// used already, or it expired at or before now. Two concurrent callers
	// never both use one token.
	RegistrationTokenUse(ctx context.Context, hash string, now time.Time) (*RegistrationToken, error)
}

// RegistrationToken lets one machine register into static pool PoolID of
// tenant TenantID, once, before ExpiresAt.
type RegistrationToken struct {
	ID        string
	TenantID  string
	PoolID    string
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when a machine registered with the token; nil while unused.
	UsedAt *time.Time
}

// ProviderStatic is the Provider of the workers of static pools: machines
// a tenant registered itself, which no provider makes or destroys. No
// tenant worker limit counts them.
const ProviderStatic = "static"
