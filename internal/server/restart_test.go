package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
)

// TestRestartResumesRunningTask stops the server while a step runs and
// starts another on the same data directory and address: the running step
// finishes on its worker (its agent rides out the gap), the next step
// runs, and the task succeeds.
// restartable returns a start function for servers on one data directory
// and address: each call starts one and returns it with its graceful
// stop.
func restartable(t *testing.T, dir, addr string) func() (*server.Server, func()) {
	t.Cleanup(func() { killWorkers(t, dir) })
	return func() (*server.Server, func()) {
		t.Helper()
		srv, err := server.New(t.Context(), server.Config{
			Listen: addr, DataDir: dir, AgentCommand: []string{os.Args[0]},
			ReaperPeriod: 100 * time.Millisecond, ReconcilePeriod: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatalf("new server: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		return srv, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server run: %v", err)
			}
		}
	}
}

func TestRestartResumesRunningTask(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := restartable(t, dir, addr)

	srv, stop := start()
	admin := client.New(srv.URL(), srv.AdminToken())
	tn, err := admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := client.New(srv.URL(), tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"}); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	gate := filepath.Join(dir, "go")
	task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{
		{Name: "first", Script: "echo started; while [ ! -f " + gate + " ]; do sleep 0.05; done; echo first done"},
		{Name: "second", Script: "echo second done"},
	}})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	eventually.Holds(t, "the first step to start", 30*time.Second, func() bool {
		lines, _ := c.TaskLog(t.Context(), task.ID)
		return logHas(lines, api.LevelInfo, "started")
	})
	stop()

	_, stop = start()
	defer stop()
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatalf("open the gate: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var lines []api.LogLine
	got, err := c.FollowLog(ctx, task.ID, func(l api.LogLine) { lines = append(lines, l) })
	if err != nil {
		t.Fatalf("follow log after restart: %v", err)
	}
	if got.State != api.StateSuccess {
		t.Fatalf("task after restart = %s (%s), want success; log:\n%s", got.State, got.Error, dump(lines))
	}
	for _, want := range []string{"first done", "second done"} {
		if !logHas(lines, api.LevelInfo, want) {
			t.Errorf("log has no %q; log:\n%s", want, dump(lines))
		}
	}
}
