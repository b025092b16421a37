package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// newTask stores and returns a queued task of tenant with two plain steps
// (ids id+"-s0", id+"-s1"), created d after t0.
func newTask(t *testing.T, s store.Store, tenant, id, state string, d time.Duration) *store.Task {
	t.Helper()
	tk := &store.Task{ID: id, TenantID: tenant, Name: "deploy " + id, State: state, CreatedAt: at(d)}
	for _, suffix := range []string{"-s0", "-s1"} {
		tk.Steps = append(tk.Steps, &store.Step{ID: id + suffix, Name: "step" + suffix, PoolID: "p1",
			Syntax: "bash", Script: "echo hi", State: "queued"})
	}
	must(t, "create task "+id, s.TaskCreate(t.Context(), tk))
	return tk
}

func testTask(t *testing.T, open opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		want := &store.Task{ID: "k1", TenantID: "t1", Name: "Deploy web", State: "running", Error: "boom",
			CreatedAt: t0, FinishedAt: ptr(at(time.Hour)),
			Steps: []*store.Step{
				{ID: "s0", Name: "build", PoolID: "p1", Syntax: "bash", Script: "make\n", ContainerImage: "golang:1.26",
					Requires: []string{"kubectl=1.22.6", "helm>=3"},
					State:    "success", WorkerID: "w1", ExitCode: ptr(0), Error: "",
					StartedAt: ptr(at(time.Second)), DispatchedAt: ptr(at(2 * time.Second)), FinishedAt: ptr(at(3 * time.Second))},
				{ID: "s1", Name: "test", PoolID: "p2", Syntax: "python", Script: "print(1)", State: "failed",
					WorkerID: "w2", ExitCode: ptr(2), Error: "exit status 2"},
				{ID: "s2", Name: "ship", PoolID: "p1", Syntax: "pwsh", Script: "Write-Host", State: "queued"},
			}}
		// Index comes from the position in Steps, whatever the caller set.
		want.Steps[2].Index = 9
		must(t, "create", s.TaskCreate(t.Context(), want))
		for i, st := range want.Steps {
			if st.Index != i || st.TaskID != "k1" {
				t.Errorf("step %s after create: Index %d TaskID %q, want %d %q", st.ID, st.Index, st.TaskID, i, "k1")
			}
		}
		for _, tenant := range []string{"t1", ""} {
			got, err := s.TaskGet(t.Context(), tenant, "k1")
			must(t, "get with tenant "+tenant, err)
			check(t, "TaskGet with tenant "+tenant, got, want)
		}
		got, err := s.TaskGet(t.Context(), "t1", "k1")
		must(t, "get", err)
		if got.Steps[0].ExitCode == nil || got.Steps[2].ExitCode != nil {
			t.Errorf("exit codes = %v, %v, want 0 and nil", got.Steps[0].ExitCode, got.Steps[2].ExitCode)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		newTask(t, s, "t1", "k1", "queued", 0)
		_, err := s.TaskGet(t.Context(), "t2", "k1")
		wantErr(t, "get another tenant's task", err, store.ErrNotFound)
		_, err = s.TaskGet(t.Context(), "", "missing")
		wantErr(t, "get unknown task", err, store.ErrNotFound)
		err = s.TaskCreate(t.Context(), &store.Task{ID: "k2", TenantID: "missing", Name: "x", State: "queued", CreatedAt: t0})
		wantErr(t, "create in an unknown tenant", err, store.ErrNotFound)
		err = s.TaskUpdate(t.Context(), &store.Task{ID: "missing", State: "failed"})
		wantErr(t, "update unknown task", err, store.ErrNotFound)
	})
	t.Run("CreateConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTask(t, s, "t1", "k1", "queued", 0)
		err := s.TaskCreate(t.Context(), &store.Task{ID: "k1", TenantID: "t1", Name: "x", State: "queued", CreatedAt: t0})
		wantErr(t, "create with a taken task id", err, store.ErrConflict)
		err = s.TaskCreate(t.Context(), &store.Task{ID: "k2", TenantID: "t1", Name: "x", State: "queued", CreatedAt: t0,
			Steps: []*store.Step{{ID: "fresh", State: "queued"}, {ID: "k1-s0", State: "queued"}}})
		wantErr(t, "create with a taken step id", err, store.ErrConflict)
		_, err = s.TaskGet(t.Context(), "", "k2")
		wantErr(t, "get task whose create failed", err, store.ErrNotFound)
		_, err = s.StepGet(t.Context(), "fresh")
		wantErr(t, "get step of a task whose create failed", err, store.ErrNotFound)
	})
	t.Run("ListUnfinished", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		b := newTask(t, s, "t1", "b", "queued", time.Minute)
		a := newTask(t, s, "t2", "a", "running", 2*time.Minute)
		c := newTask(t, s, "t1", "c", "running", 0)
		// Canceled while a step still runs: not finished yet.
		d := newTask(t, s, "t1", "d", "canceled", 3*time.Minute)
		done := newTask(t, s, "t1", "e", "success", 4*time.Minute)
		done.FinishedAt = ptr(at(5 * time.Minute))
		must(t, "finish task", s.TaskUpdate(t.Context(), done))
		got, err := s.TaskListUnfinished(t.Context())
		must(t, "list", err)
		check(t, "TaskListUnfinished", got, []*store.Task{c, b, a, d})
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		tk := newTask(t, s, "t1", "k1", "running", 0)
		upd := *tk
		upd.Name, upd.State, upd.Error, upd.FinishedAt = "ignored", "failed", "no worker", ptr(at(time.Hour))
		upd.Steps = nil
		must(t, "update", s.TaskUpdate(t.Context(), &upd))
		got, err := s.TaskGet(t.Context(), "t1", "k1")
		must(t, "get", err)
		want := *tk
		want.State, want.Error, want.FinishedAt = "failed", "no worker", ptr(at(time.Hour))
		check(t, "task after update (state, error, finished_at change)", got, &want)

		upd.State, upd.Error, upd.FinishedAt = "queued", "", nil
		must(t, "update back", s.TaskUpdate(t.Context(), &upd))
		got, err = s.TaskGet(t.Context(), "t1", "k1")
		must(t, "get", err)
		want.State, want.Error, want.FinishedAt = "queued", "", nil
		check(t, "task after clearing finished_at", got, &want)

		upd.State = "canceled"
		wantErr(t, "update from a state it is not in", s.TaskUpdate(t.Context(), &upd, "running"), store.ErrConflict)
		got, err = s.TaskGet(t.Context(), "t1", "k1")
		must(t, "get", err)
		check(t, "task after a refused update", got, &want)
		must(t, "update from its state", s.TaskUpdate(t.Context(), &upd, "queued", "running"))
		got, err = s.TaskGet(t.Context(), "t1", "k1")
		must(t, "get", err)
		want.State = "canceled"
		check(t, "task after a guarded update", got, &want)
		wantErr(t, "guarded update of unknown task", s.TaskUpdate(t.Context(), &store.Task{ID: "missing"}, "running"), store.ErrNotFound)
	})
}
