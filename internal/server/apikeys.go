package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
)

// keyPrefixLen is how much of a key its listing shows: "dpk_" and 8 of
// its 52 random characters (40 of its 256 bits), enough to tell keys
// apart and far too little to guess the rest.
const keyPrefixLen = 12

// keyPrefix is the part of key an admin sees in listings.
func keyPrefix(key string) string { return key[:min(len(key), keyPrefixLen)] }

// listAPIKeys answers GET /api/v1/admin/tenants/{id}/api-keys: the
// tenant's keys by id and prefix, never the keys.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("id")
	if _, err := s.store.TenantGet(r.Context(), tenantID); err != nil {
		s.writeError(w, r, notFoundOr(err, "tenant", tenantID))
		return
	}
	keys, err := s.store.APIKeyList(r.Context(), tenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.APIKeyList{APIKeys: []api.APIKey{}}
	for _, k := range keys {
		out.APIKeys = append(out.APIKeys, api.APIKey{ID: k.ID, Prefix: k.Prefix, CreatedAt: k.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// createAPIKey answers POST /api/v1/admin/tenants/{id}/api-keys: a new
// key for the tenant, shown this once. The tenant's other keys keep
// working; rotating is creating one and then revoking the old.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("id")
	key := id.Secret("dpk")
	k := &store.APIKey{ID: id.New("k"), TenantID: tenantID, Prefix: keyPrefix(key), KeyHash: id.Hash(key), CreatedAt: s.cfg.Clock.Now()}
	if err := s.store.APIKeyCreate(r.Context(), k); err != nil {
		s.writeError(w, r, notFoundOr(err, "tenant", tenantID))
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "API key created", "tenant_id", tenantID, "key_id", k.ID, "prefix", k.Prefix)
	s.record(r.Context(), tenantID, "apikey.create", k.ID, "prefix "+k.Prefix)
	writeJSON(w, http.StatusCreated, api.APIKey{ID: k.ID, Prefix: k.Prefix, CreatedAt: k.CreatedAt, Key: key})
}

// revokeAPIKey answers DELETE /api/v1/admin/tenants/{id}/api-keys/{key}:
// the key stops working at once, and the tenant's console sessions end.
// Revoking a tenant's last key locks it out until the admin makes another.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	tenantID, keyID := r.PathValue("id"), r.PathValue("key")
	err := s.store.APIKeyDelete(r.Context(), tenantID, keyID)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound(err, "tenant %q has no API key %q", tenantID, keyID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "API key revoked", "tenant_id", tenantID, "key_id", keyID)
	s.record(r.Context(), tenantID, "apikey.revoke", keyID, "")
	w.WriteHeader(http.StatusNoContent)
}

// keyFingerprint is 16 hex characters of the hash of all of tenantID's
// key hashes: it changes whenever a key is revoked (or added).
func (s *Server) keyFingerprint(ctx context.Context, tenantID string) (string, error) {
	keys, err := s.store.APIKeyList(ctx, tenantID)
	if err != nil {
		return "", fmt.Errorf("key fingerprint of tenant %s: %w", tenantID, err)
	}
	var b strings.Builder
	b.WriteString("console:")
	for _, k := range keys {
		b.WriteString(k.KeyHash + ",")
	}
	return id.Hash(b.String())[:16], nil
}
