package agent

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
)

// envSigtermHelper makes TestRunStopsScriptOnSIGTERM run the agent as
// `dynpool agent` does, in the process the test signals.
const envSigtermHelper = "DYNPOOL_TEST_SIGTERM_HELPER"

func TestRunStopsScriptOnSIGTERM(t *testing.T) {
	if os.Getenv(envSigtermHelper) != "" {
		// As cmd/dynpool's main: SIGTERM cancels the context Run gets.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		cfg, err := ConfigFromEnv()
		if err == nil {
			cfg.PollWait = 100 * time.Millisecond
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
			err = Run(ctx, cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Parallel()
	f, srv := newFakeServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunStopsScriptOnSIGTERM$")
	cmd.Env = append(os.Environ(), envSigtermHelper+"=1",
		EnvServer+"="+srv.URL, EnvToken+"="+fakeRegToken, EnvWorkDir+"="+t.TempDir())
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	child := startSleeper(t, f, "j1")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Well within the provider's grace before SIGKILL: the script takes
	// SIGTERM at once.
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("agent exited with %v, want success", err)
		}
	case <-time.After(ScriptKillGrace):
		t.Fatalf("agent still running %s after SIGTERM", ScriptKillGrace)
	}
	if got, want := mustCompletion(t, f, "j1"), (api.CompleteRequest{ExitCode: -1, Error: "the agent stopped"}); got != want {
		t.Errorf("completion = %+v, want %+v", got, want)
	}
	eventually.Holds(t, "the script's child to die", 20*time.Second, func() bool { return !alive(child) })
}
