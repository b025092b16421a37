package api

import "time"

// ProviderStatic is the provider of the workers of static pools: machines
// a tenant registered itself.
const ProviderStatic = "static"

// DestroyDeleted: the tenant deleted the static worker; its credential is
// dead.
const DestroyDeleted = "deleted"

// CreateRegistrationTokenRequest is the body of POST
// /api/v1/pools/{id}/registration-tokens. TTL is a Go duration ("30m"),
// default one hour.
type CreateRegistrationTokenRequest struct {
	TTL string `json:"ttl,omitempty"`
}

// RegistrationToken is the answer to POST
// /api/v1/pools/{id}/registration-tokens. Token is shown this once; it
// registers one machine into the pool before ExpiresAt.
type RegistrationToken struct {
	ID        string    `json:"id"`
	PoolID    string    `json:"pool_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// StaticRegisterRequest is the body of POST /agent/v1/static/register,
// sent with a registration token as bearer token: Pool is the pool's id or
// name, Name the machine's name. The answer is a RegisterResponse.
type StaticRegisterRequest struct {
	Pool string `json:"pool"`
	Name string `json:"name"`
}
