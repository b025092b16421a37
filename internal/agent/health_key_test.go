package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/eventually"
)

// A check that runs when the pool's script changes is killed, its
// outcome dropped; the new script runs at once and its outcome carries
// its key.
func TestHealthCheckReplacedWhileRunning(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	starts := filepath.Join(t.TempDir(), "starts")
	old := &api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "10m", Script: "echo start >> '" + starts + "'; exec sleep 600"}
	f.setHealthCheck(old)
	startAgent(t, srv.URL)
	eventually.Holds(t, "the old check to start", 20*time.Second, func() bool {
		b, _ := os.ReadFile(starts)
		return strings.Contains(string(b), "start")
	})
	next := &api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "10m", Script: "echo new script"}
	f.setHealthCheck(next)
	if got := f.healthResult(t, 1); got.Message != "new script" || got.Key != next.Key() {
		t.Errorf("first outcome = %+v, want the new script's (key %s)", got, next.Key())
	}
}

// An outcome not yet reported is dropped when the check changes; one of
// a check that ended after the change is not recorded; removing a check
// and adding the same one again runs it at once.
func TestHealthStateKeys(t *testing.T) {
	t.Parallel()
	a := &api.HealthCheck{Syntax: "sh", Script: "echo a", Interval: "1h", Timeout: "1m"}
	b := &api.HealthCheck{Syntax: "sh", Script: "echo b", Interval: "1h", Timeout: "1m"}
	now := time.Now()
	h := &healthState{wake: make(chan struct{}, 1)}

	h.set(a)
	h.ran(a, now, &api.HealthCheckResult{Status: api.HealthHealthy})
	if !h.set(b) {
		t.Error("set(b) after a: want the key changed")
	}
	if res := h.take(); res != nil {
		t.Errorf("outcome of a after the change to b = %+v, want dropped", res)
	}
	h.ran(a, now, &api.HealthCheckResult{Status: api.HealthFailed}) // a run of a that ended late
	if res := h.take(); res != nil {
		t.Errorf("late outcome of a = %+v, want dropped", res)
	}
	h.ran(b, now, &api.HealthCheckResult{Status: api.HealthHealthy})
	if res := h.take(); res == nil || res.Key != b.Key() {
		t.Errorf("outcome of b = %+v, want it with b's key", res)
	}
	if hc, _ := h.due(now); hc != nil {
		t.Errorf("b due again at once: %+v", hc)
	}
	h.set(nil)
	h.set(b)
	if hc, _ := h.due(now); hc == nil {
		t.Error("b removed and added again: not due at once")
	}
}

// A check that exits 0 before its timeout is healthy even when reading
// its output ends after the timeout: here a process that left its group
// holds the output open until the runner gives up on it (drainTimeout,
// longer than the check's timeout).
func TestHealthCheckEndingBeforeItsTimeoutIsHealthy(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	// The check's directory is its working directory: "left" is made
	// once the process has its own session.
	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "1s",
		Script: "setsid sh -c 'touch left; exec sleep 5' & while [ ! -f left ]; do sleep 0.01; done; echo ok"})
	startAgent(t, srv.URL)
	if got := f.healthResult(t, 1); got.Status != api.HealthHealthy || got.Message != "ok" {
		t.Errorf("outcome = %+v, want healthy \"ok\"", got)
	}
}

// The runner says when it stopped a script because its context ended,
// and not when the script ended on its own.
func TestRunSaysWhenItStoppedTheScript(t *testing.T) {
	t.Parallel()
	r := &ProcessRunner{}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := r.Run(ctx, &api.Job{Syntax: "sh", Script: "exec sleep 60"}, t.TempDir(), func(string, string) {})
	if !errors.Is(err, errStopped) || err.Error() != "the script was killed by signal TERM" {
		t.Errorf("stopped script: err = %v, want errStopped with the signal's text", err)
	}
	code, err := r.Run(t.Context(), &api.Job{Syntax: "sh", Script: "exit 3"}, t.TempDir(), func(string, string) {})
	if code != 3 || err != nil {
		t.Errorf("script that ended: %d, %v; want 3, nil", code, err)
	}
}
