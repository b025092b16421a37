package agent

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
)

// result waits for Run's result.
func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("Run did not return")
		return nil
	}
}

func TestRunStopsWhenWorkerIsGone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		suffix string
		status int
	}{
		{"heartbeat 401", "/heartbeat", http.StatusUnauthorized},
		{"heartbeat 404", "/heartbeat", http.StatusNotFound},
		{"register 401", "/register", http.StatusUnauthorized},
		{"register 403", "/register", http.StatusForbidden},
		{"job poll 404", "/jobs/next", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeServer(t)
			f.failNext(tt.suffix, tt.status)
			if err := result(t, startAgent(t, srv.URL)); err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		})
	}
}

func TestRunStopsDuringJobWhenWorkerIsGone(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/log", http.StatusUnauthorized)
	done := startAgent(t, srv.URL)
	f.jobs <- &api.Job{ID: "j1", Syntax: "sh", Script: "echo hi; sleep 300"}
	if err := result(t, done); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if _, ok := f.completion("j1"); ok {
		t.Errorf("a gone worker reported a completion")
	}
}

func TestRunFailsOnBadRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, suffix string
		status       int
		want         string
	}{
		{"register 400", "/register", http.StatusBadRequest, "register: POST /agent/v1/register: server answered 400: Bad Request"},
		{"job poll 400", "/jobs/next", http.StatusBadRequest, "acquire job: GET /agent/v1/jobs/next?wait=100ms: server answered 400"},
		{"job poll 503 past the unreachable timeout", "/jobs/next", http.StatusServiceUnavailable, "give up after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeServer(t)
			f.failNext(tt.suffix, slices.Repeat([]int{tt.status}, 50)...)
			err := result(t, startAgentWith(t, srv.URL, func(cfg *Config) {
				cfg.ServerUnreachableTimeout = 300 * time.Millisecond
			}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRunFailsOnBadHeartbeatInterval(t *testing.T) {
	t.Parallel()
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, api.RegisterResponse{WorkerID: "w", Credential: "c", HeartbeatInterval: "often"})
	})
	err := result(t, startAgent(t, srv))
	if err == nil || !strings.Contains(err.Error(), `heartbeat interval "often"`) {
		t.Errorf("Run = %v, want an error about the heartbeat interval", err)
	}
}

func TestRunReportsLogUploadBug(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/log", http.StatusBadRequest)
	done := startAgent(t, srv.URL)
	f.jobs <- &api.Job{ID: "j1", Syntax: "sh", Script: "echo hi; sleep 300"}
	err := result(t, done)
	if err == nil || !strings.Contains(err.Error(), "upload log of job j1") {
		t.Errorf("Run = %v, want an upload error", err)
	}
	got := mustCompletion(t, f, "j1")
	if got.ExitCode != -1 || !strings.Contains(got.Error, "server answered 400") {
		t.Errorf("completion = %+v, want exit code -1 and the upload error", got)
	}
}

func TestRunGoesOnWhenServerDroppedJob(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/j1/log", http.StatusNotFound)
	f.failNext("/j2/complete", http.StatusConflict)
	startAgent(t, srv.URL)
	child := startSleeper(t, f, "j1")
	eventually.Holds(t, "the dropped job's child to die", 20*time.Second, func() bool { return !alive(child) })
	f.jobs <- &api.Job{ID: "j2", Syntax: "sh", Script: "echo two"}
	f.jobs <- &api.Job{ID: "j3", Syntax: "sh", Script: "echo three"}
	eventually.Holds(t, "job j3 to complete", 20*time.Second, func() bool { _, ok := f.completion("j3"); return ok })
	if _, ok := f.completion("j2"); ok {
		t.Errorf("job j2 completed although the server answered 409")
	}
}

func TestRunReportsStopDuringJob(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{ServerURL: srv.URL, Token: fakeRegToken, WorkDir: t.TempDir(), PollWait: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	}()
	child := startSleeper(t, f, "j1")
	cancel()
	if err := result(t, done); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if got, want := mustCompletion(t, f, "j1"), (api.CompleteRequest{ExitCode: -1, Error: "the agent stopped"}); got != want {
		t.Errorf("completion = %+v, want %+v", got, want)
	}
	eventually.Holds(t, "the child to die", 20*time.Second, func() bool { return !alive(child) })
}

func TestRunReportsMissingWorkDir(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgentWith(t, srv.URL, func(cfg *Config) { cfg.WorkDir = filepath.Join(t.TempDir(), "missing") })
	got := runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "true"})
	if got.ExitCode != -1 || !strings.HasPrefix(got.Error, "make job directory: ") {
		t.Errorf("completion = %+v, want exit code -1 and a make job directory error", got)
	}
}
