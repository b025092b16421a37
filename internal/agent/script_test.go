package agent

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dynpool/dynpool/api"
)

func TestRunRetriesDroppedConnectionAndTooManyRequests(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/log", dropConnection, http.StatusTooManyRequests)
	f.failNext("/complete", dropConnection)
	startAgent(t, srv.URL)
	got := runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "echo one; echo two"})
	if got != (api.CompleteRequest{ExitCode: 0}) {
		t.Errorf("completion = %+v, want exit code 0", got)
	}
	if got, want := f.messages("j1", api.StreamStdout), []string{"one", "two"}; !slices.Equal(got, want) {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestRunUploadsManyLinesInOrder(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	runJob(t, f, &api.Job{ID: "j1", Syntax: "bash", Script: "for i in $(seq 1 1234); do echo $i; done"})
	got := f.messages("j1", api.StreamStdout)
	want := make([]string, 1234)
	for i := range want {
		want[i] = strconv.Itoa(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %d lines, want 1..1234 in order", len(got))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range f.lines["j1"] {
		if l.Time.IsZero() {
			t.Fatalf("line %d has no time", i)
		}
	}
}

func TestRunKillsScriptIgnoringTerm(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.cancel["j1"] = true // canceled from the first heartbeat on
	startAgent(t, srv.URL)
	got := runJob(t, f, &api.Job{ID: "j1", Syntax: "bash", Script: `trap "" TERM; while :; do sleep 0.05; done`})
	if got != (api.CompleteRequest{ExitCode: -1, Error: "canceled"}) {
		t.Errorf("completion = %+v, want canceled", got)
	}
}

func TestRunEndsJobWhoseEscapedChildHoldsOutput(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Cleanup(func() {
		if data, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	script := fmt.Sprintf("setsid sleep 300 &\necho $! > %q\necho done", pidFile)
	got := runJob(t, f, &api.Job{ID: "j1", Syntax: "bash", Script: script})
	if got != (api.CompleteRequest{ExitCode: 0}) {
		t.Errorf("completion = %+v, want exit code 0", got)
	}
	if got := f.messages("j1", api.StreamStdout); !slices.Equal(got, []string{"done"}) {
		t.Errorf("stdout = %q, want [done]", got)
	}
}

func TestSignalName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGKILL, "KILL"},
		{syscall.SIGTERM, "TERM"},
		{syscall.SIGSEGV, "SEGV"},
		{syscall.Signal(40), "40 (signal 40)"},
	}
	for _, tt := range tests {
		if got := signalName(tt.sig); got != tt.want {
			t.Errorf("signalName(%d) = %q, want %q", int(tt.sig), got, tt.want)
		}
	}
}

func TestRunReportsScriptKilledBySignal(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	tests := []struct {
		id     string
		job    api.Job
		want   api.CompleteRequest
		stdout []string
	}{
		{"kill", api.Job{Syntax: "bash", Script: "echo before\nkill -9 $$\necho after"},
			api.CompleteRequest{ExitCode: -1, Error: "the script was killed by signal KILL"}, []string{"before"}},
		{"term", api.Job{Syntax: "sh", Script: "kill -TERM $$"},
			api.CompleteRequest{ExitCode: -1, Error: "the script was killed by signal TERM"}, nil},
		// A child killed by a signal is the script's business: it exits
		// 128+9 like any other code.
		{"child", api.Job{Syntax: "sh", Script: "sh -c 'kill -9 $$'"}, api.CompleteRequest{ExitCode: 137}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			job := tt.job
			job.ID = tt.id
			if got := runJob(t, f, &job); got != tt.want {
				t.Errorf("completion = %+v, want %+v", got, tt.want)
			}
			if got := f.messages(job.ID, api.StreamStdout); !slices.Equal(got, tt.stdout) {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
		})
	}
}
