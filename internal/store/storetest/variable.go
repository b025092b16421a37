package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testVariable(t *testing.T, open opener) {
	t.Run("CreateSetList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		tk := &store.Task{ID: "k1", TenantID: "t1", Name: "deploy", State: "queued", CreatedAt: t0,
			Steps: []*store.Step{{ID: "k1-s0", Name: "a", PoolID: "p1", Syntax: "bash", Script: "true", State: "queued"}},
			Variables: []*store.Variable{
				{Kind: store.VariableTask, Name: "REGION", Value: "eu", UpdatedAt: t0},
				{Kind: store.VariableTask, Name: "PASSWORD", Value: "v1:sealed", Sensitive: true, UpdatedAt: t0},
				{Kind: store.VariableStep, StepID: "k1-s0", Name: "REGION", Value: "us", UpdatedAt: t0},
			}}
		must(t, "create task with variables", s.TaskCreate(t.Context(), tk))
		check(t, "TaskID written back", tk.Variables[0].TaskID, "k1")
		got, err := s.VariableList(t.Context(), "k1")
		must(t, "list", err)
		want := []*store.Variable{
			{TaskID: "k1", Kind: store.VariableStep, StepID: "k1-s0", Name: "REGION", Value: "us", UpdatedAt: t0},
			{TaskID: "k1", Kind: store.VariableTask, Name: "PASSWORD", Value: "v1:sealed", Sensitive: true, UpdatedAt: t0},
			{TaskID: "k1", Kind: store.VariableTask, Name: "REGION", Value: "eu", UpdatedAt: t0},
		}
		check(t, "variables after create", got, want)

		must(t, "set output", s.VariableSet(t.Context(), &store.Variable{TaskID: "k1", Kind: store.VariableOutput,
			StepID: "k1-s0", Name: "SHA", Value: "abc", UpdatedAt: at(time.Minute)}))
		must(t, "set it again from another step", s.VariableSet(t.Context(), &store.Variable{TaskID: "k1", Kind: store.VariableOutput,
			StepID: "k1-s1", Name: "SHA", Value: "v1:def", Sensitive: true, UpdatedAt: at(2 * time.Minute)}))
		got, err = s.VariableList(t.Context(), "k1")
		must(t, "list again", err)
		check(t, "variables after set", got, append([]*store.Variable{
			{TaskID: "k1", Kind: store.VariableOutput, StepID: "k1-s1", Name: "SHA", Value: "v1:def", Sensitive: true, UpdatedAt: at(2 * time.Minute)},
		}, want...))

		none, err := s.VariableList(t.Context(), "nope")
		must(t, "list of an unknown task", err)
		check(t, "variables of an unknown task", len(none), 0)
		wantErr(t, "set on an unknown task", s.VariableSet(t.Context(), &store.Variable{TaskID: "nope",
			Kind: store.VariableOutput, Name: "X", UpdatedAt: t0}), store.ErrNotFound)
	})
	t.Run("CreateIsAtomic", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		tk := &store.Task{ID: "k1", TenantID: "t1", Name: "deploy", State: "queued", CreatedAt: t0,
			Variables: []*store.Variable{
				{Kind: store.VariableTask, Name: "A", Value: "1", UpdatedAt: t0},
				{Kind: store.VariableTask, Name: "A", Value: "2", UpdatedAt: t0},
			}}
		// Two inputs of one name: the second replaces the first, as
		// VariableSet would (the task runner refuses duplicates before).
		must(t, "create", s.TaskCreate(t.Context(), tk))
		got, err := s.VariableList(t.Context(), "k1")
		must(t, "list", err)
		check(t, "one variable per name", len(got), 1)
		bad := &store.Task{ID: "k2", TenantID: "no-such-tenant", Name: "x", State: "queued", CreatedAt: t0,
			Variables: []*store.Variable{{Kind: store.VariableTask, Name: "A", Value: "1", UpdatedAt: t0}}}
		wantErr(t, "create for an unknown tenant", s.TaskCreate(t.Context(), bad), store.ErrNotFound)
		got, err = s.VariableList(t.Context(), "k2")
		must(t, "list after the failed create", err)
		check(t, "variables of a task that was not created", len(got), 0)
	})
}
