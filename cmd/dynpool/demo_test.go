package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/agent"
)

// TestMain lets the test binary be a worker's agent, as the dynpool binary
// is: the process provider starts os.Args[0] with the agent's environment.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "agent" && os.Getenv(agent.EnvJobToken) != "" {
		// A step's script calling "$DYNPOOL_CLI" agent artifact ...
		os.Exit(execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	if os.Getenv(agent.EnvToken) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := execute(ctx, []string{"agent"}, os.Stdout, os.Stderr, os.Getenv)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestDemoRunsADeploymentAndDestroysIdleWorkers(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := runDemo(t.Context(), &out, demoOptions{IdleTimeout: time.Second, AgentCommand: []string{os.Args[0]}})
	if err != nil {
		t.Fatalf("demo: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"[Package release] packaged 3 files into release.tar.gz",
		"[Plan rollout] rolling out to 40 hosts in 3 waves: [2, 10, 40]",
		"[Report worker] step ran on worker w-",
		"Task success",
		"destroyed (idle-timeout)",
		"demo finished: 4 steps succeeded",
		"Output variable RELEASE_SHA256 set",
		"Artifact release.tar.gz stored",
		"release.tar.gz: OK",
		"==> output variable RELEASE_SHA256 = ",
		"==> the archive went from worker w-",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q; output:\n%s", want, got)
		}
	}
	if !regexp.MustCompile(`[0-9a-f]{64}  release\.tar\.gz`).MatchString(got) {
		t.Errorf("demo output lacks the archive's sha256; output:\n%s", got)
	}
}
