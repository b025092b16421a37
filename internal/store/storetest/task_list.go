package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testTaskList(t *testing.T, open opener) {
	t.Run("NewestFirstOfOneTenant", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		a := newTask(t, s, "t1", "a", "success", 0)
		newTask(t, s, "t2", "other", "queued", time.Minute)
		b := newTask(t, s, "t1", "b", "running", 2*time.Minute)
		c := newTask(t, s, "t1", "c", "queued", 3*time.Minute)
		got, err := s.TaskList(t.Context(), &store.TaskListParams{TenantID: "t1", Limit: 10})
		must(t, "list", err)
		check(t, "TaskList of t1", got, []*store.Task{c, b, a})
		got, err = s.TaskList(t.Context(), &store.TaskListParams{TenantID: "t1", Limit: 2})
		must(t, "list with a limit", err)
		check(t, "TaskList of t1, limit 2", got, []*store.Task{c, b})
		got, err = s.TaskList(t.Context(), &store.TaskListParams{TenantID: "nobody", Limit: 2})
		must(t, "list of a tenant without tasks", err)
		if len(got) != 0 {
			t.Errorf("TaskList of a tenant without tasks = %d tasks, want none", len(got))
		}
	})
	t.Run("RefusesUnboundedList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, p := range []*store.TaskListParams{{TenantID: "", Limit: 5}, {TenantID: "t1", Limit: 0}} {
			if _, err := s.TaskList(t.Context(), p); err == nil {
				t.Errorf("TaskList(%+v) = nil error, want one", *p)
			}
		}
	})
}
