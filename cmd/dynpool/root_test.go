package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// call is one request the fake API saw.
type call struct {
	route string // "METHOD /path?query"
	auth  string
	body  string
}

// fakeAPI is an httptest server answering the routes it was given
// ("METHOD /path", matched without the query) and recording every call.
type fakeAPI struct {
	url   string
	mu    sync.Mutex
	calls []call
}

func newFakeAPI(t *testing.T, routes map[string]http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, call{r.Method + " " + r.URL.RequestURI(), r.Header.Get("Authorization"), string(b)})
		f.mu.Unlock()
		h, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			jsonAnswer(http.StatusNotFound, `{"error":{"code":"not_found","message":"no route"}}`)(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// called returns the calls made to route (matched on its prefix).
func (f *fakeAPI) called(route string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if strings.HasPrefix(c.route, route) {
			out = append(out, c)
		}
	}
	return out
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// sseAnswer streams lines then an end event carrying end.
func sseAnswer(lines []api.LogLine, end api.Task) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, l := range lines {
			b, _ := json.Marshal(l)
			fmt.Fprintf(w, "event: line\ndata: %s\n\n", b)
		}
		b, _ := json.Marshal(end)
		fmt.Fprintf(w, "event: end\ndata: %s\n\n", b)
	}
}

// runCLI runs dynpool with args and env in-process.
func runCLI(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = execute(ctx, args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestServerAndTokenFromEnvAndFlags(t *testing.T) {
	t.Parallel()
	envAPI := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/pools": jsonAnswer(200, `{"pools":[]}`)})
	flagAPI := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/pools": jsonAnswer(200, `{"pools":[]}`)})
	env := map[string]string{"DYNPOOL_SERVER": envAPI.url, "DYNPOOL_TOKEN": "env-token"}

	if code, _, errOut := runCLI(t.Context(), env, "pools", "list"); code != 0 {
		t.Fatalf("env run: exit %d: %s", code, errOut)
	}
	if c := envAPI.called("GET /api/v1/pools"); len(c) != 1 || c[0].auth != "Bearer env-token" {
		t.Errorf("env run: calls %+v, want one with Bearer env-token", c)
	}

	code, _, errOut := runCLI(t.Context(), env, "--server", flagAPI.url, "--token", "flag-token", "pools", "list")
	if code != 0 {
		t.Fatalf("flag run: exit %d: %s", code, errOut)
	}
	if c := flagAPI.called("GET /api/v1/pools"); len(c) != 1 || c[0].auth != "Bearer flag-token" {
		t.Errorf("flag run: calls %+v, want one with Bearer flag-token", c)
	}
	if c := envAPI.called("GET"); len(c) != 1 {
		t.Errorf("env server got %d calls, want it untouched by the flag run", len(c))
	}
}

func TestDefaultServer(t *testing.T) {
	t.Parallel()
	a := &app{getenv: func(string) string { return "" }, output: outputTable}
	if err := a.resolve(&cobra.Command{}); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if a.server != defaultServer || a.token != "" {
		t.Errorf("server %q token %q, want %q and none", a.server, a.token, defaultServer)
	}
}

func TestServerErrorIsClear(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"DELETE /api/v1/pools/p9": jsonAnswer(404, `{"error":{"code":"not_found","message":"pool \"p9\" not found"}}`),
	})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "pools", "delete", "p9")
	if code == 0 {
		t.Fatalf("exit 0, want failure; stdout %q", out)
	}
	want := "Error: delete pool p9: not_found: pool \"p9\" not found (HTTP 404)\n"
	if errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"tenants", "create"}, "accepts 1 arg(s), received 0"},
		{[]string{"pools", "create", "linux"}, "at least one of the flags in the group [image static] is required"},
		{[]string{"pools", "edit", "p1"}, "nothing to change"},
		{[]string{"tenants", "edit", "t1"}, "nothing to change"},
		{[]string{"images", "show"}, "accepts 1 arg(s), received 0"},
		{[]string{"images", "add-build", "i1", "--released", "2026-11-28"}, `required flag(s) "version" not set`},
		{[]string{"images", "add-build", "i1", "--version", "b1", "--released", "2026-11-28", "--artifact", "docker"},
			`invalid --artifact "docker": want PROVIDER=REF`},
		{[]string{"run"}, "give exactly one of --script, --file or -- COMMAND"},
		{[]string{"run", "--script", "x", "--", "echo"}, "give exactly one of"},
		{[]string{"run", "--file", "/does/not/exist"}, "read script: "},
		{[]string{"-o", "yaml", "pools", "list"}, `invalid --output "yaml"`},
		{[]string{"nosuch"}, `unknown command "nosuch"`},
		{[]string{"tasks", "lst"}, `unknown command "lst" for "dynpool tasks"`},
		{[]string{"images", "nosuch", "x"}, `unknown command "nosuch" for "dynpool images"`},
		{[]string{"run", "--var", "NOVALUE", "--script", "x"}, `--var "NOVALUE": want NAME=VALUE`},
		{[]string{"run", "--sensitive-var", "=x", "--script", "x"}, `--sensitive-var "=x": want NAME=VALUE`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runCLI(t.Context(), nil, append([]string{"--server", "http://127.0.0.1:1"}, tt.args...)...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
}

func TestEveryCommandReportsServerErrors(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, nil) // every route answers 404 not_found "no route"
	for _, args := range [][]string{
		{"tenants", "create", "acme"}, {"tenants", "list"}, {"tenants", "edit", "t1", "--max-workers", "2"},
		{"pools", "list"}, {"pools", "create", "x", "--image", "i"}, {"pools", "edit", "p1", "--name", "y"}, {"tasks", "list"},
		{"pools", "delete", "p1"}, {"images", "list"}, {"images", "show", "i1"}, {"images", "reload"},
		{"images", "add-build", "i1", "--version", "b1", "--released", "2026-11-28"}, {"images", "deprecations"},
		{"workers", "list"},
		{"tasks", "show", "k9"}, {"tasks", "log", "k9"}, {"tasks", "log", "--follow", "k9"}, {"tasks", "cancel", "k9"},
	} {
		code, out, errOut := runCLI(t.Context(), nil, append([]string{"--server", f.url}, args...)...)
		if code != 1 || !strings.HasSuffix(errOut, ": not_found: no route (HTTP 404)\n") || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and the server's error", args, code, out, errOut)
		}
	}
}

func TestInterruptedCommandExits130(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, _, errOut := runCLI(ctx, nil, "--server", "http://127.0.0.1:1", "pools", "list")
	if code != 130 || !strings.Contains(errOut, "context canceled") {
		t.Errorf("exit %d, stderr %q; want 130", code, errOut)
	}
}

func TestServerThatIsNotAURLIsRefused(t *testing.T) {
	t.Parallel()
	for _, server := range []string{"127.0.0.1:8080", "ftp://host", "http://"} {
		code, _, errOut := runCLI(t.Context(), map[string]string{"DYNPOOL_SERVER": server}, "images", "list")
		if code != 1 || !strings.Contains(errOut, "is not a URL such as http://127.0.0.1:8080") {
			t.Errorf("DYNPOOL_SERVER=%s: exit %d, stderr %q; want a clear refusal", server, code, errOut)
		}
	}
}

func TestFollowedLogExitsLikeRun(t *testing.T) {
	t.Parallel()
	exit := 7
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/tasks/k1/log": sseAnswer([]api.LogLine{{Seq: 1, Message: "boom"}}, api.Task{ID: "k1", State: api.StateFailed,
			Steps: []api.Step{{Name: "deploy", State: api.StateFailed, ExitCode: &exit}}}),
	})
	code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "tasks", "log", "-f", "k1")
	if code != 7 || !strings.Contains(errOut, "task k1 failed") {
		t.Fatalf("exit %d, stderr %q; want 7 and the failure", code, errOut)
	}
}

func TestTenantCreateWarnsTheKeyIsShownOnce(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/admin/tenants": jsonAnswer(201, `{"id":"t-1","name":"acme","api_key":"dpk_secret","idle_timeout":"1h0m0s","max_lifetime":"72h0m0s"}`),
	})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "tenants", "create", "acme")
	if code != 0 || !strings.Contains(out, "dpk_secret") || !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the key and a warning", code, out, errOut)
	}
}

// A server's self-signed certificate fails the usual checks; the error
// alone ("certificate signed by unknown authority") does not say what to
// do, so the CLI names the fingerprint flag.
func TestUnknownCertificateHintsAtTheFingerprint(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(jsonAnswer(200, `{"images":[]}`))
	defer srv.Close()
	code, _, errOut := runCLI(t.Context(), nil, "--server", srv.URL, "images", "list")
	if code != 1 || !strings.Contains(errOut, "unknown authority") || !strings.Contains(errOut, "Hint: ") || !strings.Contains(errOut, "--server-fingerprint") {
		t.Errorf("exit %d, stderr %q; want the x509 error and a hint naming --server-fingerprint", code, errOut)
	}
	fp := tlspin.Fingerprint(srv.Certificate().Raw)
	if code, _, errOut := runCLI(t.Context(), nil, "--server", srv.URL, "--server-fingerprint", fp, "images", "list"); code != 0 {
		t.Errorf("with the fingerprint: exit %d, stderr %q", code, errOut)
	}
}
