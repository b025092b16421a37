package agent

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// artifactEnv is a step's environment pointing at srv.
func artifactEnv(srv string) func(string) string {
	env := map[string]string{EnvServer: srv, EnvJobID: "job-1", EnvJobToken: "dpj_tok"}
	return func(k string) string { return env[k] }
}

func TestArtifactHelpersTalkToTheJobsEndpoints(t *testing.T) {
	t.Parallel()
	stored := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer dpj_tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/agent/v1/jobs/job-1/artifacts/")
		switch {
		case r.Method == http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			stored[name] = b
			writeJSON(w, api.Artifact{Name: name, Size: int64(len(b))})
		case name == "corrupt":
			w.Header().Set(HeaderSHA256, "00")
			_, _ = w.Write([]byte("data"))
		case stored[name] != nil:
			_, _ = w.Write(stored[name])
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"task has no artifact \"` + name + `\""}}`))
		}
	}))
	t.Cleanup(srv.Close)
	env := artifactEnv(srv.URL)
	dir := t.TempDir()
	file := filepath.Join(dir, "app.tgz")
	if err := os.WriteFile(file, []byte("archive"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RunHelper(t.Context(), []string{"artifact", "push", file, "--name=renamed.tgz"}, env, &out); err != nil {
		t.Fatalf("push: %v", err)
	}
	if string(stored["renamed.tgz"]) != "archive" || !strings.Contains(out.String(), "renamed.tgz stored: 7 bytes") {
		t.Fatalf("stored %q, output %q", stored, out.String())
	}
	if err := RunHelper(t.Context(), []string{"artifact", "pull", "renamed.tgz", "--to", dir}, env, &out); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "renamed.tgz")); string(b) != "archive" {
		t.Fatalf("pulled %q", b)
	}
	err := RunHelper(t.Context(), []string{"artifact", "pull", "missing"}, env, &out)
	if !hasStatus(err, http.StatusNotFound) || !strings.Contains(err.Error(), `no artifact "missing"`) {
		t.Fatalf("pull of a missing artifact = %v, want the server's 404", err)
	}
	err = RunHelper(t.Context(), []string{"artifact", "pull", "corrupt", "--to", filepath.Join(dir, "c")}, env, &out)
	if !errors.Is(err, errCorrupt) {
		t.Fatalf("pull of a damaged download = %v, want errCorrupt", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); !os.IsNotExist(err) {
		t.Fatalf("a damaged download left a file: %v", err)
	}
	if err := RunHelper(t.Context(), []string{"artifact", "push", dir}, env, &out); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("push of a directory = %v", err)
	}
	bad := func(k string) string { return map[string]string{EnvServer: srv.URL}[k] }
	if err := RunHelper(t.Context(), []string{"artifact", "list"}, bad, &out); err == nil || !strings.Contains(err.Error(), EnvJobID+" is not set") {
		t.Fatalf("list without a job = %v, want an error naming %s", err, EnvJobID)
	}
	wrong := func(k string) string {
		if k == EnvJobToken {
			return "dpj_other"
		}
		return env(k)
	}
	if err := RunHelper(t.Context(), []string{"artifact", "list"}, wrong, &out); !hasStatus(err, http.StatusUnauthorized) {
		t.Fatalf("list with another credential = %v, want 401", err)
	}
}

func TestRunHelperRefusesBadCommandLines(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		nil,
		{"artifact"},
		{"artifact", "push"},
		{"artifact", "push", "f", "--to", "x"},
		{"artifact", "pull", "n", "--name"},
		{"artifact", "list", "extra"},
		{"set-variable", "X", "Y"},
	} {
		if err := RunHelper(t.Context(), args, func(string) string { return "" }, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("RunHelper(%q) = %v, want the usage", args, err)
		}
	}
}
