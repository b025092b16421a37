package server_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/client"
)

// wantKeyStatus fails t unless err is a client error with status.
func wantKeyStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var se *client.Error
	if !errors.As(err, &se) || se.Status != status {
		t.Fatalf("%s: %v, want status %d", what, err, status)
	}
}

func TestAdminListsRotatesAndRevokesAPIKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := t.Context()
	acme, err := s.admin.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	other, err := s.admin.CreateTenant(ctx, "other")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	keys, err := s.admin.ListAPIKeys(ctx, acme.ID)
	if err != nil || len(keys) != 1 || keys[0].Prefix != acme.APIKey[:12] || keys[0].Key != "" {
		t.Fatalf("keys of a new tenant = %+v, %v; want its one key by prefix %q, without the key", keys, err, acme.APIKey[:12])
	}
	first := keys[0]

	// Rotate: a second key, then the first revoked.
	second, err := s.admin.CreateAPIKey(ctx, acme.ID)
	if err != nil || !strings.HasPrefix(second.Key, "dpk_") || second.Prefix != second.Key[:12] {
		t.Fatalf("create key = %+v, %v; want a dpk_ key shown once with its prefix", second, err)
	}
	for _, key := range []string{acme.APIKey, second.Key} {
		if _, err := clientFor(s, key).ListPools(ctx); err != nil {
			t.Fatalf("both keys work during a rotation: %v", err)
		}
	}
	if err := s.admin.RevokeAPIKey(ctx, acme.ID, first.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	_, err = clientFor(s, acme.APIKey).ListPools(ctx)
	wantKeyStatus(t, "the revoked key", err, http.StatusUnauthorized)
	if _, err := clientFor(s, second.Key).ListPools(ctx); err != nil {
		t.Fatalf("the new key after the rotation: %v", err)
	}
	keys, err = s.admin.ListAPIKeys(ctx, acme.ID)
	if err != nil || len(keys) != 1 || keys[0].ID != second.ID {
		t.Fatalf("keys after the rotation = %+v, %v; want the second only", keys, err)
	}

	// Errors: unknown tenant or key, another tenant's key, a tenant key
	// on the admin API.
	_, err = s.admin.ListAPIKeys(ctx, "t-missing")
	wantKeyStatus(t, "list keys of an unknown tenant", err, http.StatusNotFound)
	_, err = s.admin.CreateAPIKey(ctx, "t-missing")
	wantKeyStatus(t, "create a key for an unknown tenant", err, http.StatusNotFound)
	wantKeyStatus(t, "revoke a revoked key", s.admin.RevokeAPIKey(ctx, acme.ID, first.ID), http.StatusNotFound)
	wantKeyStatus(t, "revoke a key through another tenant", s.admin.RevokeAPIKey(ctx, other.ID, second.ID), http.StatusNotFound)
	_, err = clientFor(s, second.Key).ListAPIKeys(ctx, acme.ID)
	wantKeyStatus(t, "a tenant key on the admin API", err, http.StatusUnauthorized)

	// Revoking the last key locks the tenant out.
	if err := s.admin.RevokeAPIKey(ctx, acme.ID, second.ID); err != nil {
		t.Fatalf("revoke the last key: %v", err)
	}
	_, err = clientFor(s, second.Key).ListPools(ctx)
	wantKeyStatus(t, "after the last key is revoked", err, http.StatusUnauthorized)
}

func TestRevokingAKeyEndsTheTenantsConsoleSessions(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := signInConsole(t, s, acme.APIKey)
	if resp, _ := c.do(t, "GET", "/console/pools", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("console pools while signed in: %d, want 200", resp.StatusCode)
	}
	keys, err := s.admin.ListAPIKeys(t.Context(), acme.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("list keys: %+v, %v", keys, err)
	}
	if err := s.admin.RevokeAPIKey(t.Context(), acme.ID, keys[0].ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	resp, _ := c.do(t, "GET", "/console/pools", nil, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "API+key") {
		t.Fatalf("console after the revocation: %d to %q, want 303 to sign-in saying the API key is gone", resp.StatusCode, loc)
	}
}
