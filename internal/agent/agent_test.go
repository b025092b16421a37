package agent

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
)

// startAgent runs the agent against srvURL until the test ends, and returns
// the channel Run's result arrives on.
func startAgent(t *testing.T, srvURL string) <-chan error {
	t.Helper()
	return startAgentWith(t, srvURL, func(*Config) {})
}

// startAgentWith is startAgent with the config changed by edit first.
func startAgentWith(t *testing.T, srvURL string, edit func(*Config)) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cfg := Config{
		ServerURL: srvURL,
		Token:     fakeRegToken,
		WorkDir:   t.TempDir(),
		PollWait:  100 * time.Millisecond,
		// Long enough for every test's failing calls to be retried
		// through; a test of giving up sets its own.
		ServerUnreachableTimeout: 10 * time.Second,
		Logger:                   slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	edit(&cfg)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- Run(ctx, cfg)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return after its context was canceled")
		}
	})
	return done
}

// runJob queues job and waits until it completes.
func runJob(t *testing.T, f *fakeServer, job *api.Job) api.CompleteRequest {
	t.Helper()
	f.jobs <- job
	var req api.CompleteRequest
	eventually.Holds(t, "job "+job.ID+" to complete", 20*time.Second, func() bool {
		var ok bool
		req, ok = f.completion(job.ID)
		return ok
	})
	return req
}

func TestRunRegistersThenUsesCredential(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "echo hi"})
	eventually.Holds(t, "a heartbeat", 20*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.heartbeats > 0
	})

	f.mu.Lock()
	defer f.mu.Unlock()
	for path, headers := range f.auth {
		want := "Bearer " + fakeCredential
		if path == "/agent/v1/register" {
			want = "Bearer " + fakeRegToken
		}
		for _, h := range headers {
			if h != want {
				t.Errorf("%s sent Authorization %q, want %q", path, h, want)
			}
		}
	}
	for _, path := range []string{"/agent/v1/register", "/agent/v1/heartbeat", "/agent/v1/jobs/next", "/agent/v1/jobs/j1/log", "/agent/v1/jobs/j1/complete"} {
		if len(f.auth[path]) == 0 {
			t.Errorf("no call to %s", path)
		}
	}
}

func TestRunStreamsOutputAsItComes(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	gate := filepath.Join(t.TempDir(), "gate")
	f.jobs <- &api.Job{ID: "j1", Syntax: "bash", Env: map[string]string{"GATE": gate}, Script: `
echo out1
echo err1 >&2
echo out2
while [ ! -e "$GATE" ]; do sleep 0.02; done
echo out3
echo err2 >&2
exit 0`}

	eventually.Holds(t, "the first line", 20*time.Second, func() bool { return slices.Contains(f.messages("j1", api.StreamStdout), "out1") })
	if _, ok := f.completion("j1"); ok {
		t.Fatalf("job completed before the test let the script finish")
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "job j1 to complete", 20*time.Second, func() bool { _, ok := f.completion("j1"); return ok })

	if got, want := f.messages("j1", api.StreamStdout), []string{"out1", "out2", "out3"}; !slices.Equal(got, want) {
		t.Errorf("stdout lines = %q, want %q", got, want)
	}
	if got, want := f.messages("j1", api.StreamStderr), []string{"err1", "err2"}; !slices.Equal(got, want) {
		t.Errorf("stderr lines = %q, want %q", got, want)
	}
}

func TestRunReportsExitCodeAndErrors(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		if _, err := exec.LookPath("python"); err != nil {
			t.Skip("python is not installed")
		}
	}
	pwshMissing := api.CompleteRequest{ExitCode: -1, Error: "pwsh is not installed on this worker"}
	if _, err := exec.LookPath("pwsh"); err == nil {
		pwshMissing = api.CompleteRequest{ExitCode: 0}
	}
	tests := []struct {
		name   string
		job    api.Job
		want   api.CompleteRequest
		stdout []string
	}{
		{"bash success", api.Job{Syntax: "bash", Script: "echo ok"}, api.CompleteRequest{ExitCode: 0}, []string{"ok"}},
		{"bash failure", api.Job{Syntax: "bash", Script: "false\necho goes on\nexit 3"}, api.CompleteRequest{ExitCode: 3}, []string{"goes on"}},
		{"sh failure", api.Job{Syntax: "sh", Script: "exit 7"}, api.CompleteRequest{ExitCode: 7}, nil},
		{"python", api.Job{Syntax: "python", Script: "import sys\nprint('from python')\nsys.exit(2)"}, api.CompleteRequest{ExitCode: 2}, []string{"from python"}},
		{"env", api.Job{Syntax: "sh", TaskID: "t9", Step: "deploy", Env: map[string]string{"X": "y"},
			Script: `echo "$DYNPOOL_WORKER_ID $DYNPOOL_TASK_ID $DYNPOOL_STEP_NAME $X token=${DYNPOOL_AGENT_TOKEN:-unset}"`},
			api.CompleteRequest{ExitCode: 0}, []string{"w-1 t9 deploy y token=unset"}},
		{"unknown syntax", api.Job{Syntax: "cobol", Script: "DISPLAY 'HI'."}, api.CompleteRequest{ExitCode: -1, Error: `unknown script syntax "cobol": want bash, sh, python or pwsh`}, nil},
		{"pwsh", api.Job{Syntax: "pwsh", Script: "exit 0"}, pwshMissing, nil},
	}
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := tt.job
			job.ID = "j" + strconv.Itoa(i)
			got := runJob(t, f, &job)
			if got != tt.want {
				t.Errorf("completion = %+v, want %+v", got, tt.want)
			}
			if got := f.messages(job.ID, api.StreamStdout); !slices.Equal(got, tt.stdout) {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
		})
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// startSleeper queues a job whose script backgrounds a child, writes the
// child's pid and waits; it returns the child's pid once the script runs.
func startSleeper(t *testing.T, f *fakeServer, id string) int {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	f.jobs <- &api.Job{ID: id, Syntax: "bash", Env: map[string]string{"PID_FILE": pidFile},
		Script: "sleep 300 &\necho $! > \"$PID_FILE.tmp\" && mv \"$PID_FILE.tmp\" \"$PID_FILE\"\necho started\nwait"}
	var data []byte
	eventually.Holds(t, "the script to start", 20*time.Second, func() bool {
		var err error
		data, err = os.ReadFile(pidFile)
		return err == nil
	})
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestRunCancelThroughHeartbeatKillsTree(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	child := startSleeper(t, f, "j1")
	if !alive(child) {
		t.Fatalf("child %d is not running before the cancel", child)
	}
	f.mu.Lock()
	f.cancel["j1"] = true
	f.mu.Unlock()

	eventually.Holds(t, "job j1 to complete", 20*time.Second, func() bool { _, ok := f.completion("j1"); return ok })
	if got, want := mustCompletion(t, f, "j1"), (api.CompleteRequest{ExitCode: -1, Error: "canceled"}); got != want {
		t.Errorf("completion = %+v, want %+v", got, want)
	}
	eventually.Holds(t, "the child process to die", 20*time.Second, func() bool { return !alive(child) })
}

func TestRunCancelThroughLogAnswer(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	f.mu.Lock()
	f.cancelLog["j1"] = true
	f.mu.Unlock()
	child := startSleeper(t, f, "j1")

	eventually.Holds(t, "job j1 to complete", 20*time.Second, func() bool { _, ok := f.completion("j1"); return ok })
	if got, want := mustCompletion(t, f, "j1"), (api.CompleteRequest{ExitCode: -1, Error: "canceled"}); got != want {
		t.Errorf("completion = %+v, want %+v", got, want)
	}
	eventually.Holds(t, "the child process to die", 20*time.Second, func() bool { return !alive(child) })
}

func mustCompletion(t *testing.T, f *fakeServer, id string) api.CompleteRequest {
	t.Helper()
	req, ok := f.completion(id)
	if !ok {
		t.Fatalf("job %s did not complete", id)
	}
	return req
}

func TestRunRetriesLogUpload(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/log", http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	startAgent(t, srv.URL)
	got := runJob(t, f, &api.Job{ID: "j1", Syntax: "sh", Script: "for i in 1 2 3 4 5; do echo line$i; done"})
	if got != (api.CompleteRequest{ExitCode: 0}) {
		t.Errorf("completion = %+v, want exit code 0", got)
	}
	if got, want := f.messages("j1", api.StreamStdout), []string{"line1", "line2", "line3", "line4", "line5"}; !slices.Equal(got, want) {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestRunSplitsLongLines(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	runJob(t, f, &api.Job{ID: "j1", Syntax: "bash", Script: "printf 'a%.0s' $(seq 1 70000); echo; echo next"})
	got := f.messages("j1", api.StreamStdout)
	if len(got) != 3 || len(got[0]) != maxLine || len(got[1]) != 70000-maxLine || got[2] != "next" {
		lens := make([]int, len(got))
		for i, l := range got {
			lens[i] = len(l)
		}
		t.Errorf("line lengths = %v, want [%d %d 4]", lens, maxLine, 70000-maxLine)
	}
}
