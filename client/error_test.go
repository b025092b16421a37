package client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

func TestErrorDecoding(t *testing.T) {
	t.Parallel()
	long := "<html>" + strings.Repeat("x", 300) + "</html>"
	tests := []struct {
		name    string
		status  int
		body    string
		want    Error
		wantMsg string
	}{
		{"json error", 404, `{"error":{"code":"not_found","message":"task \"x\" not found"}}`,
			Error{Status: 404, Code: api.CodeNotFound, Message: `task "x" not found`},
			`get task x: not_found: task "x" not found (HTTP 404)`},
		{"json error with field", 400, `{"error":{"code":"invalid_argument","message":"script is empty","field":"steps[0].script"}}`,
			Error{Status: 400, Code: api.CodeInvalidArgument, Message: "script is empty", Field: "steps[0].script"},
			`get task x: invalid_argument: script is empty (field steps[0].script) (HTTP 400)`},
		{"html body cut to 200 bytes", 502, long,
			Error{Status: 502, Message: long[:200]},
			"get task x: bad gateway: " + long[:200] + " (HTTP 502)"},
		{"empty body", 500, ``,
			Error{Status: 500},
			"get task x: internal server error (HTTP 500)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := fakeServer(t, tt.status, tt.body)
			_, err := New(srv.URL, "k").GetTask(t.Context(), "x")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *client.Error", err, err)
			}
			if *e != tt.want {
				t.Errorf("Error = %+v, want %+v", *e, tt.want)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestUndecodableAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := fakeServer(t, http.StatusOK, `{"id":`)
	_, err := New(srv.URL, "k").GetPool(t.Context(), "p1")
	if err == nil || !strings.Contains(err.Error(), "get pool p1: decode answer") {
		t.Errorf("err = %v, want a decode error", err)
	}
}

func TestServerDown(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := New(srv.URL, "k").Health(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "check health: ") {
		t.Errorf("err = %v, want a connection error", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a transport failure must not look like an HTTP answer: %v", e)
	}
}

func TestBadBaseURL(t *testing.T) {
	t.Parallel()
	err := New("http://bad host", "k").Health(t.Context())
	if err == nil || !strings.Contains(err.Error(), "build request") {
		t.Errorf("err = %v, want a build request error", err)
	}
}

func TestUnencodableBody(t *testing.T) {
	t.Parallel()
	err := New("http://127.0.0.1:1", "k").do(t.Context(), http.MethodPost, "/x", make(chan int), nil)
	if err == nil || !strings.Contains(err.Error(), "encode request") {
		t.Errorf("err = %v, want an encode error", err)
	}
}

func TestEveryMethodNamesWhatFailed(t *testing.T) {
	t.Parallel()
	srv := fakeServerAll(t)
	c := New(srv.URL, "k")
	ctx := t.Context()
	calls := map[string]func() error{
		"create tenant \"a\"": func() error { _, err := c.CreateTenant(ctx, "a"); return err },
		"list tenants":        func() error { _, err := c.ListTenants(ctx); return err },
		"update tenant t1":    func() error { _, err := c.UpdateTenant(ctx, "t1", api.UpdateTenantRequest{}); return err },
		"list images":         func() error { _, err := c.ListImages(ctx); return err },
		"get image i1":        func() error { _, err := c.GetImage(ctx, "i1"); return err },
		"reload catalog":      func() error { _, err := c.ReloadCatalog(ctx); return err },
		"add build \"b1\" to image i1": func() error {
			_, err := c.AddBuild(ctx, "i1", api.AddBuildRequest{Version: "b1"})
			return err
		},
		"list deprecations":  func() error { _, err := c.ListDeprecations(ctx); return err },
		"list pools":         func() error { _, err := c.ListPools(ctx); return err },
		"create pool \"p\"":  func() error { _, err := c.CreatePool(ctx, api.CreatePoolRequest{Name: "p"}); return err },
		"update pool p1":     func() error { _, err := c.UpdatePool(ctx, "p1", api.UpdatePoolRequest{}); return err },
		"delete pool p1":     func() error { return c.DeletePool(ctx, "p1") },
		"create task \"k\"":  func() error { _, err := c.CreateTask(ctx, api.CreateTaskRequest{Name: "k"}); return err },
		"get log of task k1": func() error { _, err := c.TaskLog(ctx, "k1"); return err },
		"cancel task k1":     func() error { _, err := c.CancelTask(ctx, "k1"); return err },
		"list workers":       func() error { _, err := c.ListWorkers(ctx, true); return err },
		"list all workers":   func() error { _, err := c.AdminListWorkers(ctx); return err },
	}
	for prefix, call := range calls {
		err := call()
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusForbidden || !strings.HasPrefix(err.Error(), prefix+": forbidden: ") {
			t.Errorf("err = %v, want %q and a 403 *Error", err, prefix+": forbidden: ...")
		}
	}
}

// fakeServerAll answers every request 403 forbidden.
func fakeServerAll(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"admin token required"}}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}
