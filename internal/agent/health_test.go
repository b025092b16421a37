package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/eventually"
)

func TestHealthOutcome(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name      string
		code      int
		runErr    error
		timedOut  bool
		lines     []string
		status    string
		message   string
		maxLength bool // message is exactly api.MaxHealthMessage bytes
	}{
		{name: "exit 0", lines: []string{"disk ok"}, status: api.HealthHealthy, message: "disk ok"},
		{name: "exit 0, silent", status: api.HealthHealthy, message: ""},
		{name: "exit 0 with a WARNING: line", lines: []string{"WARNING: disk 91% full", "docker ok"},
			status: api.HealthWarning, message: "WARNING: disk 91% full\ndocker ok"},
		{name: "WARNING: not at the start is no warning", lines: []string{"no WARNING: here"}, status: api.HealthHealthy, message: "no WARNING: here"},
		{name: "exit 2", code: 2, lines: []string{"certificate expires in 9 days"}, status: api.HealthWarning, message: "certificate expires in 9 days"},
		{name: "exit 1", code: 1, lines: []string{"docker: daemon not running"}, status: api.HealthFailed,
			message: "exit code 1\ndocker: daemon not running"},
		{name: "exit 3, silent", code: 3, status: api.HealthFailed, message: "exit code 3"},
		{name: "exit 1 with a WARNING: line still fails", code: 1, lines: []string{"WARNING: x"}, status: api.HealthFailed,
			message: "exit code 1\nWARNING: x"},
		{name: "could not run", code: -1, runErr: errors.New("pwsh is not installed on this worker"), status: api.HealthFailed,
			message: "pwsh is not installed on this worker"},
		{name: "timed out", code: -1, runErr: errors.New("the script was killed by signal TERM"), timedOut: true,
			lines: []string{"checking the registry"}, status: api.HealthFailed,
			message: "the health check did not end within its timeout of 1s\nchecking the registry"},
		{name: "bounded, the reason and the last line kept", code: 1, lines: append(repeat(long, 30), "the last line"),
			status: api.HealthFailed, maxLength: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tail := &outputTail{}
			for _, l := range tc.lines {
				tail.add(api.StreamStdout, l)
			}
			got := healthOutcome(tc.code, tc.runErr, tc.timedOut, time.Second, tail)
			if got.Status != tc.status {
				t.Errorf("status = %q, want %q", got.Status, tc.status)
			}
			if tc.maxLength {
				if len(got.Message) != api.MaxHealthMessage || !strings.HasPrefix(got.Message, "exit code 1\n") ||
					!strings.HasSuffix(got.Message, "\nthe last line") {
					t.Errorf("message of %d bytes = %.40q…%q, want %d bytes from \"exit code 1\" to the last line",
						len(got.Message), got.Message, got.Message[max(len(got.Message)-20, 0):], api.MaxHealthMessage)
				}
				return
			}
			if got.Message != tc.message {
				t.Errorf("message = %q, want %q", got.Message, tc.message)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// setHealthCheck makes the fake send hc in its heartbeat answers.
func (f *fakeServer) setHealthCheck(hc *api.HealthCheck) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthCheck = hc
}

// healthResult waits for the n-th health-check outcome (1-based) the
// agent reported.
func (f *fakeServer) healthResult(t *testing.T, n int) api.HealthCheckResult {
	t.Helper()
	var got api.HealthCheckResult
	eventually.Holds(t, "health-check outcome", 20*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.healthResults) < n {
			return false
		}
		got = f.healthResults[n-1]
		return true
	})
	return got
}

func (f *fakeServer) heartbeatCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heartbeats
}

func TestHealthCheckRunsAndReportsEachChange(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Script: "echo disk ok", Interval: "1h", Timeout: "1m"})
	startAgent(t, srv.URL)
	if got := f.healthResult(t, 1); got.Status != api.HealthHealthy || got.Message != "disk ok" {
		t.Fatalf("first outcome = %+v, want healthy \"disk ok\"", got)
	}
	// A changed script runs at once, not an hour later.
	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Script: "echo 'docker: daemon not running' >&2; exit 1", Interval: "1h", Timeout: "1m"})
	if got := f.healthResult(t, 2); got.Status != api.HealthFailed || got.Message != "exit code 1\ndocker: daemon not running" {
		t.Fatalf("outcome after the change = %+v, want failed with the exit code and the script's stderr", got)
	}
	// Each outcome is reported once; the check runs again only after its
	// interval (an hour): jobs still run meanwhile.
	runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "echo hi"})
	beats := f.heartbeatCount()
	eventually.Holds(t, "three more heartbeats", 20*time.Second, func() bool { return f.heartbeatCount() >= beats+3 })
	f.mu.Lock()
	n := len(f.healthResults)
	f.mu.Unlock()
	if n != 2 {
		t.Errorf("%d outcomes reported, want 2 (one per run)", n)
	}
}

func TestHealthCheckTimesOut(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Script: "echo checking; exec sleep 300", Interval: "1h", Timeout: "1s"})
	startAgent(t, srv.URL)
	// Only the reason is matched: on a loaded machine sh may not have
	// echoed within the second.
	got := f.healthResult(t, 1)
	want := "the health check did not end within its timeout of 1s"
	if got.Status != api.HealthFailed || !strings.HasPrefix(got.Message, want) {
		t.Errorf("outcome = %+v, want failed starting with %q", got, want)
	}
}

func TestHealthCheckUnknownSyntaxFails(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.setHealthCheck(&api.HealthCheck{Syntax: "cobol", Script: "x", Interval: "1h", Timeout: "1m"})
	startAgent(t, srv.URL)
	got := f.healthResult(t, 1)
	if got.Status != api.HealthFailed || !strings.Contains(got.Message, `unknown script syntax "cobol"`) {
		t.Errorf("outcome = %+v, want failed naming the unknown syntax", got)
	}
}

// A check that becomes due while a job runs waits until the job has
// ended.
func TestHealthCheckNotRunWhileAJobRuns(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	dir := t.TempDir()
	running, release, log := filepath.Join(dir, "job-running"), filepath.Join(dir, "release"), filepath.Join(dir, "checks")
	startAgent(t, srv.URL)
	f.jobs <- &api.Job{ID: "j1", Syntax: "sh", Script: "touch '" + running + "'; while [ ! -f '" + release + "' ]; do sleep 0.05; done; rm '" + running + "'"}
	eventually.Holds(t, "the job to start", 20*time.Second, func() bool { _, err := os.Stat(running); return err == nil })

	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "1m",
		Script: "if [ -f '" + running + "' ]; then echo during-a-job >> '" + log + "'; else echo idle >> '" + log + "'; fi"})
	// The agent has had the check for several heartbeats while the job ran.
	beats := f.heartbeatCount()
	eventually.Holds(t, "three heartbeats", 20*time.Second, func() bool { return f.heartbeatCount() >= beats+3 })
	if _, err := os.Stat(log); err == nil {
		t.Fatal("the health check ran while a job ran")
	}
	must(t, os.WriteFile(release, nil, 0o600))
	f.healthResult(t, 1)
	eventually.Holds(t, "job j1 to complete", 20*time.Second, func() bool { _, ok := f.completion("j1"); return ok })
	b, err := os.ReadFile(log)
	must(t, err)
	if got := strings.TrimSpace(string(b)); got != "idle" {
		t.Errorf("check runs = %q, want one, once the agent was idle", got)
	}
}

// A job that arrives while the check runs stops the check: the job is not
// kept waiting, and the stopped check's outcome is not reported.
func TestHealthCheckStoppedByAJob(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "10m",
		Script: "echo start >> '" + starts + "'; exec sleep 600"})
	startAgent(t, srv.URL)
	// The file exists once the shell opened it, its line only once echo
	// wrote it: wait for the line.
	started := func(n int) func() bool {
		return func() bool {
			b, _ := os.ReadFile(starts)
			return strings.Count(string(b), "start") >= n
		}
	}
	eventually.Holds(t, "the check to start", 20*time.Second, started(1))
	if req := runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "echo hi"}); req.ExitCode != 0 || req.Error != "" {
		t.Fatalf("job = %+v, want exit code 0", req)
	}
	// A wrongly kept outcome would go with a later heartbeat: wait for
	// a few.
	beats := f.heartbeatCount()
	eventually.Holds(t, "three more heartbeats", 20*time.Second, func() bool { return f.heartbeatCount() >= beats+3 })
	f.mu.Lock()
	reported := len(f.healthResults)
	f.mu.Unlock()
	if reported != 0 {
		t.Errorf("%d outcomes reported, want none: the stopped check's outcome is dropped", reported)
	}
	// Idle again, the agent runs the check anew.
	eventually.Holds(t, "the check to start again", 20*time.Second, started(2))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A check that ignores SIGTERM is gone before the step that preempted it
// starts: its processes are killed at once, and the step waits for that.
func TestHealthCheckKilledBeforeTheStepStarts(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	grows := filepath.Join(t.TempDir(), "grows")
	// The loop's command line holds the file's path: the step looks for it.
	f.setHealthCheck(&api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "10m",
		Script: `exec sh -c 'trap "" TERM; while :; do echo x >> "$1"; sleep 0.05; done' check-loop '` + grows + `'`})
	startAgent(t, srv.URL)
	eventually.Holds(t, "the check to start", 20*time.Second, func() bool { b, _ := os.ReadFile(grows); return len(b) > 0 })
	req := runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "if pgrep -f '" + grows + "' >/dev/null; then echo the check still runs; exit 3; fi"})
	if req.ExitCode != 0 || req.Error != "" {
		t.Errorf("job = %+v, want exit code 0: the preempted check's processes were still there when the step started", req)
	}
}
