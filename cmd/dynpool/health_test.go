package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPoolHealthCheckFlags(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(script, []byte("docker info >/dev/null\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checked := `{"id":"p9","name":"machines","type":"static","image":"","is_default":false,"capacity":1,
	 "machine_policy":{"heartbeat_interval":"5s","unavailable_after":"30s",
	  "health_check":{"syntax":"bash","script":"docker info","interval":"5m0s","timeout":"1m0s"}}}`
	plain := `{"id":"p8","name":"plain","type":"static","image":"","is_default":false,"capacity":1,
	 "machine_policy":{"heartbeat_interval":"5s","unavailable_after":"30s"}}`
	tests := []struct {
		name     string
		args     []string
		route    string
		wantBody string
		wantOut  string
	}{
		{"create with a file", []string{"pools", "create", "machines", "--static", "--health-check-file", script, "--health-check-interval", "10m"},
			"POST /api/v1/pools", `{"name":"machines","type":"static","image":"","health_check":{"script":"docker info >/dev/null\n","interval":"10m"}}`,
			"pool machines: health check (bash) every 5m0s, timeout 1m0s; a machine whose check fails gets no step"},
		{"create with a script", []string{"pools", "create", "machines", "--static", "--health-check-script", "df /", "--health-check-syntax", "sh", "--health-check-timeout", "10s"},
			"POST /api/v1/pools", `{"name":"machines","type":"static","image":"","health_check":{"syntax":"sh","script":"df /","timeout":"10s"}}`, "machines"},
		{"edit the interval sends it alone", []string{"pools", "edit", "machines", "--health-check-interval", "15m"},
			"PATCH /api/v1/pools/machines", `{"health_check":{"script":"","interval":"15m"}}`, "machines"},
		{"edit the script", []string{"pools", "edit", "machines", "--health-check-file", script},
			"PATCH /api/v1/pools/machines", `{"health_check":{"script":"docker info >/dev/null\n"}}`, "machines"},
		{"remove", []string{"pools", "edit", "machines", "--no-health-check"},
			"PATCH /api/v1/pools/machines", `{"health_check":{"script":""}}`, "machines"},
		{"heartbeat figures leave the check alone", []string{"pools", "edit", "machines", "--unavailable-after", "1m"},
			"PATCH /api/v1/pools/machines", `{"machine_policy":{"heartbeat_interval":"","unavailable_after":"1m"}}`, "machines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/pools":           jsonAnswer(201, checked),
				"GET /api/v1/pools/machines":   jsonAnswer(200, checked),
				"PATCH /api/v1/pools/machines": jsonAnswer(200, checked),
			})
			checkCommand(t, f, tt.args, tt.route, tt.wantBody, tt.wantOut)
		})
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing file", []string{"pools", "edit", "plain", "--health-check-file", filepath.Join(t.TempDir(), "nope.sh")},
			"read the health-check script"},
		{"remove and set at once", []string{"pools", "edit", "plain", "--no-health-check", "--health-check-script", "true"},
			"none of the others can be"},
		{"file and script at once", []string{"pools", "create", "plain", "--static", "--health-check-file", script, "--health-check-script", "true"},
			"none of the others can be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/pools/plain": jsonAnswer(200, plain)})
			code, _, errOut := runCLI(t.Context(), nil, append([]string{"--server", f.url}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want a failure with %q", code, errOut, tc.wantErr)
			}
			if len(f.called("PATCH")) != 0 || len(f.called("POST")) != 0 {
				t.Error("the pool was changed")
			}
		})
	}
}

func TestWorkersListShowsHealth(t *testing.T) {
	t.Parallel()
	workers := `{"workers":[
	 {"id":"w-1","name":"box-1","pool_id":"p9","provider":"static","state":"idle","created_at":"2026-11-29T10:00:00Z",
	  "health_check":{"status":"failed","message":"exit code 1\ndocker: daemon not running","checked_at":"2026-11-29T10:05:00Z"}},
	 {"id":"w-2","name":"box-2","pool_id":"p9","provider":"static","state":"busy","created_at":"2026-11-29T10:00:00Z",
	  "health_check":{"status":"healthy","message":"all good","checked_at":"2026-11-29T10:05:00Z"}}]}`
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/pools/p9/workers": jsonAnswer(200, workers)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "pools", "workers", "p9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"HEALTH", "idle (unhealthy)", "failed", "healthy",
		"health check of worker w-1 failed at ", ":\n  exit code 1\n  docker: daemon not running\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout = %q, want it to contain %q", out, want)
		}
	}
	if strings.Contains(out, "all good") {
		t.Errorf("stdout = %q: a healthy check's message is not printed", out)
	}
	f = newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/workers": jsonAnswer(200, workers)})
	checkCommand(t, f, []string{"-o", "json", "workers", "list"}, "GET /api/v1/workers", "", `"status": "failed"`)
}
