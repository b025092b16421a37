package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// send makes a raw request, so malformed bodies reach the server as sent,
// and returns the status and body.
func send(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// call sends a raw request and decodes the error shape of a 4xx or 5xx.
func call(t *testing.T, method, url, token, body string) (int, api.Error) {
	t.Helper()
	status, b := send(t, method, url, token, body)
	var e api.ErrorResponse
	if status >= 400 {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s answered %d with a body that is not the error shape: %q", method, url, status, b)
		}
	}
	return status, e.Error
}

func TestBadInputAnswers4xxWithCodeAndField(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	bare, err := s.admin.CreateTenant(t.Context(), "no pools yet")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	key, admin := acme.APIKey, s.AdminToken()
	if status, e := call(t, "POST", s.URL()+"/api/v1/pools", key, `{"name":"Linux","image":"ubuntu-default"}`); status != 201 {
		t.Fatalf("create pool: %d %+v", status, e)
	}
	tests := []struct {
		name, method, path, token, body string
		status                          int
		code, field, message            string
	}{
		{"unknown image", "POST", "/api/v1/pools", key, `{"name":"x","image":"ubnutu-22.04"}`, 400, api.CodeInvalidArgument, "image", `unknown image "ubnutu-22.04"`},
		{"image no provider can make", "POST", "/api/v1/pools", key, `{"name":"win","image":"windows-2019"}`, 400, api.CodeInvalidArgument, "image", "no configured provider can make Windows Server Core 2019"},
		{"pool without a name", "POST", "/api/v1/pools", key, `{"image":"ubuntu-default"}`, 400, api.CodeInvalidArgument, "name", "name"},
		{"duplicate pool name", "POST", "/api/v1/pools", key, `{"name":"Linux","image":"ubuntu-22.04"}`, 409, api.CodeConflict, "", `a pool named "Linux" already exists`},
		{"duplicate tenant name", "POST", "/api/v1/admin/tenants", admin, `{"name":"acme"}`, 409, api.CodeConflict, "", `a tenant named "acme" already exists`},
		{"negative pool limit", "POST", "/api/v1/pools", key, `{"name":"neg","image":"ubuntu-default","max_workers":-1}`, 400, api.CodeInvalidArgument, "max_workers", "-1 is negative"},
		{"static pool with an image", "POST", "/api/v1/pools", key, `{"name":"own","type":"static","image":"ubuntu-default"}`, 400, api.CodeInvalidArgument, "image", "static pool has no image"},
		{"unknown pool type", "POST", "/api/v1/pools", key, `{"name":"own","type":"elastic"}`, 400, api.CodeInvalidArgument, "type", "static"},
		{"unknown pool", "POST", "/api/v1/tasks", key, `{"steps":[{"pool":"nope","script":"echo"}]}`, 400, api.CodeInvalidArgument, "steps[0].pool", `"nope"`},
		{"no default pool", "POST", "/api/v1/tasks", bare.APIKey, `{"steps":[{"script":"echo"}]}`, 400, api.CodeInvalidArgument, "steps[0].pool", "no default pool"},
		{"empty script", "POST", "/api/v1/tasks", key, `{"steps":[{"script":"  "}]}`, 400, api.CodeInvalidArgument, "steps[0].script", "empty"},
		{"NUL in a script", "POST", "/api/v1/tasks", key, `{"steps":[{"script":"echo \u0000"}]}`, 400, api.CodeInvalidArgument, "steps[0].script", "NUL"},
		{"NUL in a pool name", "POST", "/api/v1/pools", key, `{"name":"a\u0000b","image":"ubuntu-default"}`, 400, api.CodeInvalidArgument, "name", "NUL"},
		{"unknown syntax", "POST", "/api/v1/tasks", key, `{"steps":[{"script":"puts 1","syntax":"ruby"}]}`, 400, api.CodeInvalidArgument, "steps[0].syntax", `"ruby"`},
		{"no steps", "POST", "/api/v1/tasks", key, `{"name":"empty"}`, 400, api.CodeInvalidArgument, "steps", "at least one step"},
		{"execution container without image", "POST", "/api/v1/tasks", key, `{"steps":[{"script":"echo","container":{}}]}`, 400, api.CodeInvalidArgument, "steps[0].container.image", "is empty"},
		{"execution container bad image", "POST", "/api/v1/tasks", key, `{"steps":[{"script":"echo","container":{"image":"Not An Image!"}}]}`, 400, api.CodeInvalidArgument, "steps[0].container.image", "not a container image reference"},
		{"malformed JSON", "POST", "/api/v1/tasks", key, `{"steps":[`, 400, api.CodeMalformedJSON, "", "malformed JSON"},
		{"unknown field", "POST", "/api/v1/tasks", key, `{"stpes":[]}`, 400, api.CodeMalformedJSON, "", `"stpes"`},
		{"trailing data", "POST", "/api/v1/pools", key, `{"name":"a","image":"ubuntu-default"} {}`, 400, api.CodeMalformedJSON, "", "trailing"},
		{"bad idle timeout", "PATCH", "/api/v1/admin/tenants/" + acme.ID, admin, `{"idle_timeout":"soon"}`, 400, api.CodeInvalidArgument, "idle_timeout", `"soon"`},
		{"negative max workers", "PATCH", "/api/v1/admin/tenants/" + acme.ID, admin, `{"max_workers":-1}`, 400, api.CodeInvalidArgument, "max_workers", "-1"},
		{"idle timeout beyond a year", "PATCH", "/api/v1/admin/tenants/" + acme.ID, admin, `{"idle_timeout":"9000h"}`, 400, api.CodeInvalidArgument, "idle_timeout", "longer than the limit"},
		{"unknown tenant", "PATCH", "/api/v1/admin/tenants/t-nope", admin, `{"max_workers":1}`, 404, api.CodeNotFound, "", `no tenant with id "t-nope"`},
		{"unknown task", "GET", "/api/v1/tasks/task-nope", key, ``, 404, api.CodeNotFound, "", `no task with id "task-nope"`},
		{"unknown pool id", "DELETE", "/api/v1/pools/p-nope", key, ``, 404, api.CodeNotFound, "", `no pool with id "p-nope"`},
		{"body too large", "POST", "/api/v1/tasks", key, `{"name":"` + strings.Repeat("x", 6<<20) + `"}`, 413, api.CodeTooLarge, "", "larger than the limit"},
		{"scripts too large together", "POST", "/api/v1/tasks", key, bigTask(5, 900<<10), 400, api.CodeInvalidArgument, "steps", "total"},
		{"no token", "GET", "/api/v1/pools", "", ``, 401, api.CodeUnauthenticated, "", "bearer token"},
		{"wrong key", "GET", "/api/v1/pools", "dpk_wrong", ``, 401, api.CodeUnauthenticated, "", "unknown API key"},
		{"tenant key on admin API", "POST", "/api/v1/admin/tenants", key, `{"name":"evil"}`, 401, api.CodeUnauthenticated, "", "not a tenant API key"},
		{"admin token on tenant API", "GET", "/api/v1/pools", admin, ``, 401, api.CodeUnauthenticated, "", "needs a tenant API key"},
		{"tenant key on agent API", "POST", "/agent/v1/heartbeat", key, ``, 401, api.CodeUnauthenticated, "", ""},
		{"replayed or unknown registration", "POST", "/agent/v1/register", "dpr_unknown", ``, 401, api.CodeUnauthenticated, "", ""},
		{"unknown route", "GET", "/api/v1/nothing", key, ``, 404, api.CodeNotFound, "", "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := call(t, tt.method, s.URL()+tt.path, tt.token, tt.body)
			if status != tt.status || e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("got %d %+v, want %d code %q field %q message containing %q", status, e, tt.status, tt.code, tt.field, tt.message)
			}
		})
	}
	// Bad input lost nothing and made nothing.
	pools, err := clientFor(s, key).ListPools(t.Context())
	if err != nil || len(pools) != 1 || pools[0].Name != "Linux" || !pools[0].IsDefault {
		t.Fatalf("pools after bad requests = %+v, %v; want only the default pool Linux", pools, err)
	}
	ws, err := s.admin.AdminListWorkers(t.Context())
	if err != nil || len(ws) != 0 {
		t.Fatalf("workers after bad requests = %+v, %v; want none", ws, err)
	}
}

// bigTask is a task request of n steps whose scripts are size bytes each.
func bigTask(n, size int) string {
	steps := make([]string, n)
	for i := range steps {
		steps[i] = `{"script":"` + strings.Repeat("#", size) + `"}`
	}
	return `{"steps":[` + strings.Join(steps, ",") + `]}`
}
