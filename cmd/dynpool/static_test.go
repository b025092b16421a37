package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/agent"
)

func TestStaticPoolCommands(t *testing.T) {
	t.Parallel()
	pool := `{"id":"p9","name":"machines","type":"static","image":"","is_default":false}`
	token := `{"id":"r1","pool_id":"p9","token":"dpr_secret","expires_at":"2026-11-29T11:00:00Z"}`
	workers := `{"workers":[{"id":"w-1","name":"box-1","pool_id":"p9","provider":"static","state":"unavailable",
	 "created_at":"2026-11-29T10:00:00Z"}]}`
	tests := []struct {
		name     string
		args     []string
		route    string
		wantBody string
		wantOut  string
	}{
		{"create static", []string{"pools", "create", "machines", "--static"},
			"POST /api/v1/pools", `{"name":"machines","type":"static","image":""}`, "p9  machines  static"},
		{"token", []string{"pools", "registration-token", "machines", "--ttl", "10m"},
			"POST /api/v1/pools/machines/registration-tokens", `{"ttl":"10m"}`, "dpr_secret\n"},
		{"token default ttl", []string{"pools", "registration-token", "machines"},
			"POST /api/v1/pools/machines/registration-tokens", `{}`, "dpr_secret\n"},
		{"workers list", []string{"workers", "list"}, "GET /api/v1/workers", "", "box-1"},
		{"delete worker", []string{"workers", "delete", "w-1"}, "DELETE /api/v1/workers/w-1", "", "deleted worker w-1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/pools":                              jsonAnswer(201, pool),
				"POST /api/v1/pools/machines/registration-tokens": jsonAnswer(201, token),
				"GET /api/v1/workers":                             jsonAnswer(200, workers),
				"DELETE /api/v1/workers/w-1":                      jsonAnswer(204, ""),
			})
			checkCommand(t, f, tt.args, tt.route, tt.wantBody, tt.wantOut)
		})
	}
	t.Run("workers list shows the provider", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/workers": jsonAnswer(200, workers)})
		_, out, _ := runCLI(t.Context(), nil, "--server", f.url, "workers", "list")
		for _, want := range []string{"PROVIDER", "static", "unavailable", "LAST CONTACT"} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout = %q, want it to contain %q", out, want)
			}
		}
	})
	t.Run("image and static exclude each other", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := runCLI(t.Context(), nil, "--server", "http://127.0.0.1:1", "pools", "create", "x", "--static", "--image", "i")
		if code == 0 || !strings.Contains(errOut, "none of the others can be") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestAgentRegister(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /agent/v1/static/register": jsonAnswer(200, `{"worker_id":"w-7","credential":"dpw_x","heartbeat_interval":"5s"}`),
	})
	path := filepath.Join(t.TempDir(), "conf", "agent.json")
	checkCommand(t, f, []string{"agent", "register", "--pool", "machines", "--token", "dpr_t", "--name", "box",
		"--credential-file", path}, "POST /agent/v1/static/register", `{"pool":"machines","name":"box"}`, "registered as worker w-7")
	if got := f.called("POST /agent/v1/static/register")[0].auth; got != "Bearer dpr_t" {
		t.Errorf("Authorization = %q, want the registration token", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("credential file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode %v, want 0600", st.Mode().Perm())
	}
	c, err := agent.LoadCredential(path)
	if err != nil || c.WorkerID != "w-7" || c.Credential != "dpw_x" || c.ServerURL != f.url {
		t.Fatalf("stored credential = %+v, %v", c, err)
	}
}

func TestAgentRegisterRefused(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /agent/v1/static/register": jsonAnswer(401, `{"error":{"code":"unauthenticated","message":"the registration token is unknown, used already, expired, or not for pool \"machines\""}}`),
	})
	path := filepath.Join(t.TempDir(), "agent.json")
	code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "agent", "register", "--pool", "machines", "--token", "dpr_t",
		"--name", "box", "--credential-file", path)
	if code == 0 || !strings.Contains(errOut, "used already") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused registration left a credential file: %v", err)
	}
}

func TestAgentRunWithoutCredential(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing.json")
	code, _, errOut := runCLI(t.Context(), nil, "agent", "run", "--credential-file", path, "--workdir", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "register first") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
