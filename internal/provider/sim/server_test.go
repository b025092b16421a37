package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/server"
)

// TestStepsRunOnSimWorkers runs a server with --provider sim and checks
// that steps run end to end: the real agent loop registers over HTTP (h2c),
// takes the job, prints the configured line and completes; a second step
// reuses the idle worker.
func TestStepsRunOnSimWorkers(t *testing.T) {
	t.Parallel()
	srv, err := server.New(t.Context(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Provider: sim.Name,
		Sim:    sim.Config{Output: "deployed by a simulated worker"},
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	tn, err := client.New(srv.URL(), srv.AdminToken()).CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(srv.URL(), tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "sim", Image: "ubuntu-default"}); err != nil {
		t.Fatalf("create pool (the built-in catalog must offer a sim artifact): %v", err)
	}
	var workers []string
	for range 2 {
		task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{{Name: "deploy", Syntax: api.SyntaxBash, Script: "exit 3"}}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		end, err := c.FollowLog(t.Context(), task.ID, func(l api.LogLine) { out = append(out, l.Message) })
		if err != nil {
			t.Fatal(err)
		}
		if end.State != api.StateSuccess || !strings.Contains(strings.Join(out, "\n"), "deployed by a simulated worker") {
			t.Fatalf("task %s (%s); log:\n%s", end.State, end.Error, strings.Join(out, "\n"))
		}
		workers = append(workers, end.Steps[0].WorkerID)
	}
	if workers[0] != workers[1] {
		t.Errorf("steps ran on workers %q, want the idle one reused", workers)
	}
	ws, err := c.ListWorkers(t.Context(), false)
	if err != nil || len(ws) != 1 || ws[0].Provider != sim.Name {
		t.Errorf("workers = %+v, %v; want one sim worker", ws, err)
	}
}
