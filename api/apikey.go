package api

import "time"

// APIKey is one API key of a tenant, as GET
// /api/v1/admin/tenants/{id}/api-keys lists it: its id and first
// characters, never the key. Key is set once, in the answer to the POST
// that made it.
type APIKey struct {
	ID string `json:"id"`
	// Prefix is the key's first characters, e.g. "dpk_7hq2mzx4"; empty
	// for a key made before prefixes were kept.
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	Key       string    `json:"api_key,omitempty"`
}

// APIKeyList is the body of GET /api/v1/admin/tenants/{id}/api-keys.
type APIKeyList struct {
	APIKeys []APIKey `json:"api_keys"`
}
