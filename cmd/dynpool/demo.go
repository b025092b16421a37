package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
)

// demoOptions shape `dynpool demo`; tests set AgentCommand so workers run
// the test binary as their agent.
type demoOptions struct {
	IdleTimeout  time.Duration
	AgentCommand []string
}

func newDemoCmd() *cobra.Command {
	var opt demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a deployment on dynamic workers with an in-process server, end to end",
		Long: `Start a server on a free loopback port with a temporary data directory and the
process provider, create a tenant and two pools on "Ubuntu (default)", run a
four-step deployment (bash, sh, python, sh) while streaming its task log (the
first step packages an archive, sets its checksum as an output variable and
stores it as an artifact; the second, on the other pool and so on another
worker, fetches and verifies it), list the workers, and wait until they are
destroyed for being idle.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), opt)
		},
	}
	cmd.Flags().DurationVar(&opt.IdleTimeout, "idle-timeout", 3*time.Second, "idle timeout of the demo's workers")
	return cmd
}

// demoVerifyPool is the demo's second pool: a step on it gets a worker of
// its own, since a worker serves one pool (steps of one pool may well
// share a worker, so only separate pools guarantee two workers).
const demoVerifyPool = "Linux verifiers"

// demoSteps is the demo deployment: package an artifact and pass it, with
// its checksum as an output variable, to a step on another worker that
// verifies it; compute a rollout plan; report the worker each step ran on.
var demoSteps = []api.StepRequest{
	{Name: "Package release", Syntax: api.SyntaxBash, Script: `set -euo pipefail
mkdir -p release
for i in 1 2 3; do echo "service build $i" > "release/part-$i.txt"; done
tar -czf release.tar.gz release
echo "packaged $(tar -tzf release.tar.gz | grep -c txt) files into release.tar.gz ($(wc -c < release.tar.gz) bytes)"
sha256sum release.tar.gz
set_dynpool_variable RELEASE_SHA256 "$(sha256sum release.tar.gz | cut -d' ' -f1)"
"$DYNPOOL_CLI" agent artifact push release.tar.gz
echo "packaged on worker $DYNPOOL_WORKER_ID"`},
	{Name: "Verify release", Pool: demoVerifyPool, Syntax: api.SyntaxSh, Script: `set -eu
"$DYNPOOL_CLI" agent artifact pull release.tar.gz
echo "$RELEASE_SHA256  release.tar.gz" | sha256sum -c -
echo "verified on worker $DYNPOOL_WORKER_ID: $(tar -tzf release.tar.gz | grep -c txt) files"`},
	{Name: "Plan rollout", Syntax: api.SyntaxPython, Script: `import math
hosts = 40
waves = [math.ceil(hosts * p / 100) for p in (5, 25, 100)]
print(f"rolling out to {hosts} hosts in {len(waves)} waves: {waves}")
print("canary error budget:", round(0.001 * hosts * 60, 3), "errors/min")`},
	{Name: "Report worker", Syntax: api.SyntaxSh, Script: `echo "step ran on worker $DYNPOOL_WORKER_ID"
echo "kernel: $(uname -sr), pid $$"
echo "work directory: $(pwd)"`},
}

func runDemo(ctx context.Context, out io.Writer, opt demoOptions) error {
	dir, err := os.MkdirTemp("", "dynpool-demo-")
	if err != nil {
		return fmt.Errorf("make data directory: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, err := server.New(ctx, server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, IdleTimeout: opt.IdleTimeout,
		ReaperPeriod: 500 * time.Millisecond, ReconcilePeriod: time.Second,
		AgentCommand: opt.AgentCommand,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(runCtx) }()
	defer func() {
		stop()
		<-errc
	}()
	fmt.Fprintf(out, "==> dynpool server at %s (data in %s, process provider, idle timeout %s)\n", srv.URL(), dir, opt.IdleTimeout)

	admin := client.New(srv.URL(), srv.AdminToken())
	tenant, err := admin.CreateTenant(ctx, "Acme Deployments")
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	c := client.New(srv.URL(), tenant.APIKey)
	pool, err := c.CreatePool(ctx, api.CreatePoolRequest{Name: "Linux workers", Image: "ubuntu-default"})
	if err != nil {
		return fmt.Errorf("create pool: %w", err)
	}
	fmt.Fprintf(out, "==> tenant %q (%s), pool %q on %s, resolved to %s\n", tenant.Name, tenant.ID, pool.Name, pool.Image, pool.ResolvedImage)
	if _, err := c.CreatePool(ctx, api.CreatePoolRequest{Name: demoVerifyPool, Image: "ubuntu-default"}); err != nil {
		return fmt.Errorf("create pool: %w", err)
	}
	fmt.Fprintf(out, "==> pool %q on the same image: the verify step gets a worker of its own\n", demoVerifyPool)

	task, err := c.CreateTask(ctx, api.CreateTaskRequest{Name: "Deploy web service", Steps: demoSteps})
	if err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	fmt.Fprintf(out, "==> task %s %q queued; its task log:\n", task.ID, task.Name)
	task, err = c.FollowLog(ctx, task.ID, func(l api.LogLine) { fmt.Fprintln(out, formatLogLine(l)) })
	if err != nil {
		return fmt.Errorf("follow task log: %w", err)
	}
	if task.State != api.StateSuccess {
		return fmt.Errorf("task %s ended %s: %s", task.ID, task.State, task.Error)
	}
	fmt.Fprintf(out, "==> task %s succeeded; its steps ran on:\n", task.ID)
	for _, s := range task.Steps {
		fmt.Fprintf(out, "    %-16s worker %s\n", s.Name, s.WorkerID)
	}
	if err := reportHandOver(ctx, out, c, task); err != nil {
		return err
	}
	return waitForIdleDestruction(ctx, out, c, opt.IdleTimeout)
}

// waitForIdleDestruction lists the tenant's workers, then waits until every
// one is destroyed for being idle, saying so as each goes.
func waitForIdleDestruction(ctx context.Context, out io.Writer, c *client.Client, idle time.Duration) error {
	workers, err := c.ListWorkers(ctx, false)
	if err != nil {
		return fmt.Errorf("list workers: %w", err)
	}
	fmt.Fprintf(out, "==> %d live worker(s):\n", len(workers))
	for _, w := range workers {
		fmt.Fprintf(out, "    %s  %s  build %s  %s  destroy at %s\n", w.ID, w.Image, w.Build, w.State, w.DestroyAt.Local().Format("15:04:05"))
	}
	fmt.Fprintf(out, "==> waiting for the idle timeout (%s) to destroy them\n", idle)
	deadline := time.Now().Add(idle + 30*time.Second)
	seen := map[string]bool{}
	for len(seen) < len(workers) {
		if time.Now().After(deadline) {
			return errors.New("workers were not destroyed within 30s after their idle timeout")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		all, err := c.ListWorkers(ctx, true)
		if err != nil {
			return fmt.Errorf("list workers: %w", err)
		}
		for _, w := range all {
			if seen[w.ID] || w.State != api.WorkerDestroyed {
				continue
			}
			seen[w.ID] = true
			if w.DestroyReason != api.DestroyIdleTimeout {
				return fmt.Errorf("worker %s was destroyed for %s, not for being idle", w.ID, w.DestroyReason)
			}
			fmt.Fprintf(out, "    worker %s destroyed (%s), idle since %s\n", w.ID, w.DestroyReason, w.LastUsedAt.Local().Format("15:04:05.000"))
		}
	}
	fmt.Fprintf(out, "==> demo finished: %d steps succeeded; every worker was destroyed after %s idle\n", len(demoSteps), idle)
	return nil
}
