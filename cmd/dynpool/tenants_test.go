package main

import (
	"net/http"
	"testing"
)

func TestTenantsCommands(t *testing.T) {
	t.Parallel()
	tenant := `{"id":"t1","name":"acme","api_key":"dp_secret","idle_timeout":"60m0s","max_lifetime":"72h0m0s","max_workers":0}`
	tests := []struct {
		name     string
		args     []string
		route    string
		wantBody string
		wantOut  string
	}{
		{"create shows key", []string{"tenants", "create", "acme"}, "POST /api/v1/admin/tenants",
			`{"name":"acme"}`, "t1  acme  60m0s         72h0m0s       no limit     dp_secret"},
		{"list", []string{"tenants", "list"}, "GET /api/v1/admin/tenants", "",
			"t2  beta  90m           72h0m0s       4"},
		{"list json", []string{"-o", "json", "tenants", "list"}, "GET /api/v1/admin/tenants", "", `"max_workers": 4`},
		{"edit", []string{"tenants", "edit", "t1", "--idle-timeout", "90m", "--max-lifetime", "", "--max-workers", "4"},
			"PATCH /api/v1/admin/tenants/t1", `{"idle_timeout":"90m","max_lifetime":"","max_workers":4}`, "t1  acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/admin/tenants":     jsonAnswer(201, tenant),
				"GET /api/v1/admin/tenants":      jsonAnswer(200, `{"tenants":[{"id":"t2","name":"beta","idle_timeout":"90m","max_lifetime":"72h0m0s","max_workers":4}]}`),
				"PATCH /api/v1/admin/tenants/t1": jsonAnswer(200, tenant),
			})
			checkCommand(t, f, tt.args, tt.route, tt.wantBody, tt.wantOut)
		})
	}
}
