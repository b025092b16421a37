package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/server"
)

func TestStepThatCannotGetAWorkerFailsAtTheLeaseTimeoutWithTheReason(t *testing.T) {
	t.Parallel()
	// The first task's worker is made within the same lease timeout: 500 ms
	// was too short for a creation on a loaded CI machine.
	s := startServer(t, func(c *server.Config) { c.LeaseTimeout = 5 * time.Second })
	c := s.tenant(t, "acme")
	tenants, err := s.admin.ListTenants(t.Context())
	if err != nil {
		t.Fatalf("list tenants: %v", err)
	}
	one := 1
	if _, err := s.admin.UpdateTenant(t.Context(), tenants[0].ID, api.UpdateTenantRequest{MaxWorkers: &one}); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	busy, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{{Script: "echo holding; sleep 300"}}})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	eventually.Holds(t, "the first task to hold the tenant's only worker", 30*time.Second, func() bool {
		lines, _ := c.TaskLog(t.Context(), busy.ID)
		return logHas(lines, api.LevelInfo, "holding")
	})
	task, lines := runTask(t, c, api.StepRequest{Name: "starved", Script: "echo must not run"})
	st := task.Steps[0]
	if task.State != api.StateFailed || !strings.Contains(st.Error, "leasing timeout") || !strings.Contains(st.Error, "worker limit reached") || strings.Contains(st.Error, "context") {
		t.Fatalf("starved step = %s %q, want failed with 'leasing timeout' and the limit; log:\n%s", st.State, st.Error, dump(lines))
	}
	if _, err := c.CancelTask(t.Context(), busy.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
}
