package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// recorded is what the fake server saw of one request.
type recorded struct {
	method, uri, auth, contentType string
	body                           []byte
}

// fakeServer answers every request with status and body and sends what it
// saw on the returned channel.
func fakeServer(t *testing.T, status int, body string) (*httptest.Server, <-chan recorded) {
	t.Helper()
	seen := make(chan recorded, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- recorded{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func ptr[T any](v T) *T { return &v }

func TestMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		call    func(ctx context.Context, c *Client) (any, error)
		method  string
		uri     string
		reqBody string // JSON, "" for none
		answer  string
		want    any
	}{
		{"CreateTenant", func(ctx context.Context, c *Client) (any, error) { return c.CreateTenant(ctx, "acme") },
			"POST", "/api/v1/admin/tenants", `{"name":"acme"}`,
			`{"id":"t1","name":"acme","api_key":"k"}`, &api.Tenant{ID: "t1", Name: "acme", APIKey: "k"}},
		{"ListTenants", func(ctx context.Context, c *Client) (any, error) { return c.ListTenants(ctx) },
			"GET", "/api/v1/admin/tenants", "",
			`{"tenants":[{"id":"t1"}]}`, []api.Tenant{{ID: "t1"}}},
		{"UpdateTenant", func(ctx context.Context, c *Client) (any, error) {
			return c.UpdateTenant(ctx, "t1", api.UpdateTenantRequest{IdleTimeout: ptr("90m"), MaxWorkers: ptr(3)})
		}, "PATCH", "/api/v1/admin/tenants/t1", `{"idle_timeout":"90m","max_workers":3}`,
			`{"id":"t1","idle_timeout":"90m","max_workers":3}`, &api.Tenant{ID: "t1", IdleTimeout: "90m", MaxWorkers: 3}},
		{"ListImages", func(ctx context.Context, c *Client) (any, error) { return c.ListImages(ctx) },
			"GET", "/api/v1/images", "",
			`{"images":[{"id":"ubuntu-22.04"}],"aliases":[{"id":"ubuntu-default","resolves_to":"ubuntu-22.04"}]}`,
			&api.ImageList{Images: []api.Image{{ID: "ubuntu-22.04"}}, Aliases: []api.Alias{{ID: "ubuntu-default", ResolvesTo: "ubuntu-22.04"}}}},
		{"GetImage", func(ctx context.Context, c *Client) (any, error) { return c.GetImage(ctx, "ubuntu/22.04") },
			"GET", "/api/v1/images/ubuntu%2F22.04", "",
			`{"id":"ubuntu/22.04","tools":[{"name":"kubectl","versions":["1.22.6"]}],"builds":[{"version":"b1","released":"2026-11-02"}]}`,
			&api.Image{ID: "ubuntu/22.04", Tools: []api.Tool{{Name: "kubectl", Versions: []string{"1.22.6"}}},
				Builds: []api.Build{{Version: "b1", Released: "2026-11-02"}}}},
		{"ReloadCatalog", func(ctx context.Context, c *Client) (any, error) { return c.ReloadCatalog(ctx) },
			"POST", "/api/v1/admin/catalog/reload", "",
			`{"images":[{"id":"ubuntu-22.04"}],"aliases":[]}`,
			&api.ImageList{Images: []api.Image{{ID: "ubuntu-22.04"}}, Aliases: []api.Alias{}}},
		{"AddBuild", func(ctx context.Context, c *Client) (any, error) {
			return c.AddBuild(ctx, "ubuntu-22.04", api.AddBuildRequest{Version: "2026.11.28", Released: "2026-11-28",
				Artifacts: map[string]string{"process": "", "docker": "reg/ubuntu:22.04"}})
		}, "POST", "/api/v1/admin/images/ubuntu-22.04/builds",
			`{"version":"2026.11.28","released":"2026-11-28","artifacts":{"process":"","docker":"reg/ubuntu:22.04"}}`,
			`{"id":"ubuntu-22.04","builds":[{"version":"2026.11.28","released":"2026-11-28"}]}`,
			&api.Image{ID: "ubuntu-22.04", Builds: []api.Build{{Version: "2026.11.28", Released: "2026-11-28"}}}},
		{"ListDeprecations", func(ctx context.Context, c *Client) (any, error) { return c.ListDeprecations(ctx) },
			"GET", "/api/v1/admin/deprecations", "",
			`{"deprecations":[{"tenant_id":"t1","pool_id":"p1","image":"ubuntu-18.04","end_of_life_date":"2026-10-13","days_left":12}]}`,
			[]api.Deprecation{{TenantID: "t1", PoolID: "p1", Image: "ubuntu-18.04", EndOfLifeDate: "2026-10-13", DaysLeft: 12}}},
		{"ListPools", func(ctx context.Context, c *Client) (any, error) { return c.ListPools(ctx) },
			"GET", "/api/v1/pools", "",
			`{"pools":[{"id":"p1","deprecated":true}]}`, []api.Pool{{ID: "p1", Deprecated: true}}},
		{"GetPool", func(ctx context.Context, c *Client) (any, error) { return c.GetPool(ctx, "p/1") },
			"GET", "/api/v1/pools/p%2F1", "",
			`{"id":"p/1"}`, &api.Pool{ID: "p/1"}},
		{"CreatePool", func(ctx context.Context, c *Client) (any, error) {
			return c.CreatePool(ctx, api.CreatePoolRequest{Name: "linux", Image: "ubuntu-default", IsDefault: true})
		}, "POST", "/api/v1/pools", `{"name":"linux","image":"ubuntu-default","is_default":true}`,
			`{"id":"p1","name":"linux"}`, &api.Pool{ID: "p1", Name: "linux"}},
		{"UpdatePool", func(ctx context.Context, c *Client) (any, error) {
			return c.UpdatePool(ctx, "p1", api.UpdatePoolRequest{Image: ptr("ubuntu-22.04")})
		}, "PATCH", "/api/v1/pools/p1", `{"image":"ubuntu-22.04"}`,
			`{"id":"p1","image":"ubuntu-22.04"}`, &api.Pool{ID: "p1", Image: "ubuntu-22.04"}},
		{"DeletePool", func(ctx context.Context, c *Client) (any, error) { return nil, c.DeletePool(ctx, "p1") },
			"DELETE", "/api/v1/pools/p1", "", ``, nil},
		{"CreateTask", func(ctx context.Context, c *Client) (any, error) {
			return c.CreateTask(ctx, api.CreateTaskRequest{Name: "hi", Steps: []api.StepRequest{{Name: "s", Script: "echo hi"}}})
		}, "POST", "/api/v1/tasks", `{"name":"hi","steps":[{"name":"s","script":"echo hi"}]}`,
			`{"id":"k1","state":"queued"}`, &api.Task{ID: "k1", State: "queued"}},
		{"GetTask", func(ctx context.Context, c *Client) (any, error) { return c.GetTask(ctx, "k1") },
			"GET", "/api/v1/tasks/k1", "",
			`{"id":"k1","state":"running","steps":[{"name":"s","worker_id":"w1"}]}`,
			&api.Task{ID: "k1", State: "running", Steps: []api.Step{{Name: "s", WorkerID: "w1"}}}},
		{"TaskLog", func(ctx context.Context, c *Client) (any, error) { return c.TaskLog(ctx, "k1") },
			"GET", "/api/v1/tasks/k1/log", "",
			`{"lines":[{"seq":1,"level":"info","message":"hi"}]}`, []api.LogLine{{Seq: 1, Level: "info", Message: "hi"}}},
		{"CancelTask", func(ctx context.Context, c *Client) (any, error) { return c.CancelTask(ctx, "k1") },
			"POST", "/api/v1/tasks/k1/cancel", "",
			`{"id":"k1","state":"canceled"}`, &api.Task{ID: "k1", State: "canceled"}},
		{"ListWorkers", func(ctx context.Context, c *Client) (any, error) { return c.ListWorkers(ctx, false) },
			"GET", "/api/v1/workers", "",
			`{"workers":[{"id":"w1","state":"idle"}]}`, []api.Worker{{ID: "w1", State: "idle"}}},
		{"ListWorkersAll", func(ctx context.Context, c *Client) (any, error) { return c.ListWorkers(ctx, true) },
			"GET", "/api/v1/workers?all=true", "",
			`{"workers":[]}`, []api.Worker{}},
		{"AdminListWorkers", func(ctx context.Context, c *Client) (any, error) { return c.AdminListWorkers(ctx) },
			"GET", "/api/v1/admin/workers", "",
			`{"workers":[{"id":"w1","tenant_id":"t1"}]}`, []api.Worker{{ID: "w1", TenantID: "t1"}}},
		{"Health", func(ctx context.Context, c *Client) (any, error) { return nil, c.Health(ctx) },
			"GET", "/healthz", "", `{"status":"ok"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := fakeServer(t, http.StatusOK, tt.answer)
			got, err := tt.call(t.Context(), New(srv.URL+"/", "secret"))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			r := <-seen
			if r.method != tt.method || r.uri != tt.uri {
				t.Errorf("request = %s %s, want %s %s", r.method, r.uri, tt.method, tt.uri)
			}
			if r.auth != "Bearer secret" {
				t.Errorf("Authorization = %q, want %q", r.auth, "Bearer secret")
			}
			if tt.reqBody == "" {
				if len(r.body) != 0 {
					t.Errorf("body = %s, want none", r.body)
				}
			} else {
				if r.contentType != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", r.contentType)
				}
				if !jsonEqual(t, r.body, []byte(tt.reqBody)) {
					t.Errorf("body = %s, want %s", r.body, tt.reqBody)
				}
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("answer = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestNoTokenSendsNoAuthorization(t *testing.T) {
	t.Parallel()
	srv, seen := fakeServer(t, http.StatusOK, `{}`)
	if err := New(srv.URL, "").Health(t.Context()); err != nil {
		t.Fatalf("Health: %v", err)
	}
	if r := <-seen; r.auth != "" {
		t.Errorf("Authorization = %q, want none", r.auth)
	}
}

func TestWithHTTPClient(t *testing.T) {
	t.Parallel()
	srv, seen := fakeServer(t, http.StatusOK, `{}`)
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	if err := New(srv.URL, "x", WithHTTPClient(hc)).Health(t.Context()); err != nil {
		t.Fatalf("Health: %v", err)
	}
	<-seen
	if !used {
		t.Error("the given http.Client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
