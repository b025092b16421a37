package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestTenantKeysCommands(t *testing.T) {
	t.Parallel()
	created := `{"id":"k-new","prefix":"dpk_abcdefgh","created_at":"2026-11-30T10:00:00Z","api_key":"dpk_abcdefghsecret"}`
	listed := `{"api_keys":[{"id":"k-t1","prefix":"","created_at":"2026-11-01T10:00:00Z"},{"id":"k-new","prefix":"dpk_abcdefgh","created_at":"2026-11-30T10:00:00Z"}]}`
	routes := func() map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/admin/tenants/t1/api-keys":         jsonAnswer(200, listed),
			"POST /api/v1/admin/tenants/t1/api-keys":        jsonAnswer(201, created),
			"DELETE /api/v1/admin/tenants/t1/api-keys/k-t1": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) },
		}
	}
	tests := []struct {
		name, route, wantOut string
		args                 []string
	}{
		{"list", "GET /api/v1/admin/tenants/t1/api-keys", "k-t1   (not kept)", []string{"tenants", "keys", "list", "t1"}},
		{"create", "POST /api/v1/admin/tenants/t1/api-keys", "dpk_abcdefghsecret", []string{"tenants", "keys", "create", "t1"}},
		{"revoke", "DELETE /api/v1/admin/tenants/t1/api-keys/k-t1", "revoked k-t1", []string{"tenants", "keys", "revoke", "t1", "k-t1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkCommand(t, newFakeAPI(t, routes()), tt.args, tt.route, "", tt.wantOut)
		})
	}
	t.Run("rotate", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, routes())
		checkCommand(t, f, []string{"tenants", "keys", "rotate", "t1"}, "POST /api/v1/admin/tenants/t1/api-keys", "", "dpk_abcdefghsecret")
		if n := len(f.called("DELETE /api/v1/admin/tenants/t1/api-keys/k-t1")); n != 1 {
			t.Errorf("rotate revoked the old key %d times, want once", n)
		}
		if n := len(f.called("DELETE /api/v1/admin/tenants/t1/api-keys/k-new")); n != 0 {
			t.Error("rotate revoked the new key")
		}
	})
	t.Run("revoke unknown", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, routes())
		code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "tenants", "keys", "revoke", "t1", "k-nope")
		if code == 0 || !strings.Contains(errOut, "not_found") {
			t.Errorf("revoke of an unknown key: exit %d, stderr %q; want a failure naming not_found", code, errOut)
		}
	})
}
