package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testStep(t *testing.T, open opener) {
	t.Run("GetUpdate", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		tk := newTask(t, s, "t1", "k1", "running", 0)
		got, err := s.StepGet(t.Context(), "k1-s1")
		must(t, "get", err)
		check(t, "StepGet", got, tk.Steps[1])

		upd := *tk.Steps[1]
		upd.State, upd.WorkerID, upd.ExitCode, upd.Error = "success", "w1", ptr(0), "warning"
		upd.StartedAt, upd.DispatchedAt, upd.FinishedAt = ptr(at(time.Second)), ptr(at(2*time.Second)), ptr(at(time.Minute))
		must(t, "update", s.StepUpdate(t.Context(), &upd))
		got, err = s.StepGet(t.Context(), "k1-s1")
		must(t, "get", err)
		check(t, "step after update", got, &upd)
		if got.ExitCode == nil || *got.ExitCode != 0 {
			t.Errorf("ExitCode after setting 0 = %v, want 0 (not nil)", got.ExitCode)
		}

		upd.State, upd.WorkerID, upd.ExitCode, upd.Error = "queued", "", nil, ""
		upd.StartedAt, upd.DispatchedAt, upd.FinishedAt = nil, nil, nil
		must(t, "update back", s.StepUpdate(t.Context(), &upd))
		got, err = s.StepGet(t.Context(), "k1-s1")
		must(t, "get", err)
		check(t, "step after clearing", got, tk.Steps[1])

		task, err := s.TaskGet(t.Context(), "t1", "k1")
		must(t, "get task", err)
		check(t, "first step untouched", task.Steps[0], tk.Steps[0])
	})
	t.Run("UpdateCompareAndSet", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		tk := newTask(t, s, "t1", "k1", "running", 0)
		upd := *tk.Steps[0]
		upd.State = "canceled"
		wantErr(t, "update from a state it is not in", s.StepUpdate(t.Context(), &upd, "running"), store.ErrConflict)
		got, err := s.StepGet(t.Context(), upd.ID)
		must(t, "get", err)
		check(t, "step after a refused update", got, tk.Steps[0])
		must(t, "update from its state", s.StepUpdate(t.Context(), &upd, "queued", "running"))
		got, err = s.StepGet(t.Context(), upd.ID)
		must(t, "get", err)
		check(t, "step after a guarded update", got, &upd)
		wantErr(t, "guarded update of unknown step", s.StepUpdate(t.Context(), &store.Step{ID: "missing"}, "running"), store.ErrNotFound)
	})
	t.Run("Dispatch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		tk := newTask(t, s, "t1", "k1", "running", 0)
		wantErr(t, "dispatch a queued step", s.StepDispatch(t.Context(), "k1-s0", at(time.Second)), store.ErrConflict)
		running := *tk.Steps[0]
		running.State, running.WorkerID = "running", "w1"
		must(t, "start step", s.StepUpdate(t.Context(), &running))
		must(t, "dispatch", s.StepDispatch(t.Context(), "k1-s0", at(time.Second)))
		got, err := s.StepGet(t.Context(), "k1-s0")
		must(t, "get", err)
		running.DispatchedAt = ptr(at(time.Second))
		check(t, "step after dispatch", got, &running)
		wantErr(t, "dispatch twice", s.StepDispatch(t.Context(), "k1-s0", at(2*time.Second)), store.ErrConflict)
		wantErr(t, "dispatch unknown step", s.StepDispatch(t.Context(), "missing", at(time.Second)), store.ErrNotFound)
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.StepGet(t.Context(), "missing")
		wantErr(t, "get unknown step", err, store.ErrNotFound)
		err = s.StepUpdate(t.Context(), &store.Step{ID: "missing", State: "failed"})
		wantErr(t, "update unknown step", err, store.ErrNotFound)
	})
	t.Run("ListByWorker", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		// Task ids sort the other way round from their creation.
		late := newTask(t, s, "t1", "a-late", "running", time.Hour)
		early := newTask(t, s, "t1", "b-early", "running", 0)
		assign := func(st *store.Step, worker, state string) *store.Step {
			st.WorkerID, st.State = worker, state
			must(t, "assign "+st.ID, s.StepUpdate(t.Context(), st))
			return st
		}
		l0 := assign(late.Steps[0], "w1", "running")
		e1 := assign(early.Steps[1], "w1", "running")
		e0 := assign(early.Steps[0], "w1", "success")
		assign(late.Steps[1], "w2", "running")
		for _, tc := range []struct {
			worker string
			states []string
			want   []*store.Step
		}{
			{"w1", []string{"running"}, []*store.Step{e1, l0}},
			{"w1", []string{"running", "success"}, []*store.Step{e0, e1, l0}},
			{"w1", nil, []*store.Step{e0, e1, l0}},
			{"w1", []string{"failed"}, nil},
			{"w3", nil, nil},
			{"", nil, nil},
		} {
			got, err := s.StepListByWorker(t.Context(), tc.worker, tc.states...)
			must(t, "list", err)
			check(t, "StepListByWorker "+tc.worker, got, tc.want)
		}
	})
}
