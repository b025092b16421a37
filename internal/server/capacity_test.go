package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
)

// meetScript is a step that leaves its own mark in dir and succeeds only
// once the mark of other appears there within 20 s: two such steps succeed
// only when they run at the same time.
func meetScript(dir, self, other string) string {
	return fmt.Sprintf(`touch %s
for i in $(seq 200); do [ -e %s ] && { echo "met %s"; exit 0; }; sleep 0.1; done
echo "%s never came" >&2; exit 1`,
		filepath.Join(dir, self), filepath.Join(dir, other), other, other)
}

// followAll follows each task to its end, concurrently.
func followAll(t *testing.T, c *client.Client, ids ...string) []*api.Task {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out := make([]*api.Task, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out[i], errs[i] = c.FollowLog(ctx, id, func(api.LogLine) {}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("follow task %s: %v", ids[i], err)
		}
	}
	return out
}

// A pool of capacity 2 runs two steps of its tenant on one worker at
// once; a third waits for a place rather than getting a second worker
// beyond the pool's limit, and then runs on the same worker.
func TestPoolCapacityRunsStepsTogetherOnOneWorker(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := clientFor(s, tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default", MaxWorkers: 1, Capacity: 2}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	submit := func(script string) string {
		t.Helper()
		task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Name: t.Name(), Steps: []api.StepRequest{{Script: script}}})
		if err != nil {
			t.Fatalf("create task: %v", err)
		}
		return task.ID
	}
	a := submit(meetScript(dir, "a", "b"))
	b := submit(meetScript(dir, "b", "a"))
	third := submit("echo third")
	tasks := followAll(t, c, a, b, third)
	workers := map[string]bool{}
	for _, task := range tasks {
		if task.State != api.StateSuccess {
			t.Errorf("task %s ended %s: %s", task.ID, task.State, task.Error)
		}
		workers[task.Steps[0].WorkerID] = true
	}
	if len(workers) != 1 {
		t.Errorf("the steps ran on workers %v, want one worker (capacity 2, max_workers 1)", workers)
	}
	ws, err := c.ListWorkers(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].State != api.WorkerIdle {
		t.Errorf("workers after the tasks = %+v, want one idle", ws)
	}
}

// A worker at the largest capacity runs that many steps at once and keeps
// heartbeating with all of them listed (found by review: heartbeats were
// refused beyond 16 running jobs, which stopped the agent).
func TestPoolAtMaxCapacityKeepsItsAgent(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) { c.HeartbeatInterval = 100 * time.Millisecond })
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := clientFor(s, tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default", MaxWorkers: 1, Capacity: api.MaxPoolCapacity}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, api.MaxPoolCapacity)
	for i := range ids {
		task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Name: t.Name(), Steps: []api.StepRequest{{Script: "sleep 1; echo done"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = task.ID
	}
	for _, task := range followAll(t, c, ids...) {
		if task.State != api.StateSuccess {
			t.Errorf("task %s ended %s: %s", task.ID, task.State, task.Error)
		}
	}
}

// Capacity is checked: 1 to 32 for a dynamic pool, 1 for a static one.
func TestPoolCapacityRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	for _, tc := range []struct {
		req  api.CreatePoolRequest
		want string
	}{
		{api.CreatePoolRequest{Name: "big", Image: "ubuntu-default", Capacity: 33}, "33 is not from 1 to 32"},
		{api.CreatePoolRequest{Name: "neg", Image: "ubuntu-default", Capacity: -1}, "-1 is not from 1 to 32"},
		{api.CreatePoolRequest{Name: "mine", Type: api.PoolTypeStatic, Capacity: 2}, "one step at a time"},
	} {
		_, err := c.CreatePool(t.Context(), tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "capacity") {
			t.Errorf("create %+v = %v, want a 400 on capacity saying %q", tc.req, err, tc.want)
		}
	}
	pools, err := c.ListPools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Capacity != 1 {
		t.Fatalf("pools = %+v, want only Linux with capacity 1 (the default)", pools)
	}
	zero := 0
	if _, err := c.UpdatePool(t.Context(), pools[0].ID, api.UpdatePoolRequest{Capacity: &zero}); err == nil {
		t.Error("capacity 0 was accepted in an update")
	}
	four := 4
	p, err := c.UpdatePool(t.Context(), pools[0].ID, api.UpdatePoolRequest{Capacity: &four})
	if err != nil || p.Capacity != 4 {
		t.Errorf("update to capacity 4 = %+v, %v", p, err)
	}
}
