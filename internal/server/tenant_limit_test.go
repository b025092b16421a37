package server_test

import (
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// Issue #4's done-when: with a tenant limit of 1, three tasks started
// together never have more than one worker between them, wait for it in
// turn, and all succeed. Without the limit each would get a worker of its
// own (the pool has no other bound).
func TestTenantLimitOfOneRunsThreeConcurrentTasksOnOneWorker(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	tenants, err := s.admin.ListTenants(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	one := 1
	if _, err := s.admin.UpdateTenant(t.Context(), tenants[0].ID, api.UpdateTenantRequest{MaxWorkers: &one}); err != nil {
		t.Fatalf("limit the tenant to one worker: %v", err)
	}
	ids := make([]string, 3)
	for i := range ids {
		task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{
			{Script: "echo on $DYNPOOL_WORKER_ID; sleep 0.3"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = task.ID
	}
	for i, task := range followAll(t, c, ids...) {
		if task.State != api.StateSuccess {
			t.Fatalf("task %d ended %s: %s", i, task.State, task.Error)
		}
	}
	workers, err := c.ListWorkers(t.Context(), true) // destroyed ones too
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 1 {
		t.Fatalf("the tenant had %d workers, want 1 (its limit): %+v", len(workers), workers)
	}
	waited := 0
	for _, id := range ids {
		lines, err := c.TaskLog(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !logHas(lines, api.LevelInfo, "on "+workers[0].ID) {
			t.Errorf("task %s did not run on the tenant's only worker %s:\n%s", id, workers[0].ID, dump(lines))
		}
		for _, l := range lines {
			if strings.Contains(l.Message, "Waiting for a worker") && strings.Contains(l.Message, "worker limit reached") {
				waited++
				break
			}
		}
	}
	if waited < 2 {
		t.Errorf("%d tasks logged that they waited at the worker limit, want at least 2 of 3", waited)
	}
}
