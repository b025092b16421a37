package task_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/variable"
)

// TestContainerOutputMasksAValueCutAtTheLineLimit sends an execution
// container's output as the docker provider cuts it (64 KiB pieces), with
// a sensitive value across the cut and a service message setting another.
func TestContainerOutputMasksAValueCutAtTheLineLimit(t *testing.T) {
	t.Parallel()
	const secret = "c0ntainer-S3cret-xyz"
	long := strings.Repeat("a", variable.MaxLine-5) + secret + "-end"
	host := &stubHost{got: make(chan *task.ContainerSpec, 1), lines: []api.AgentLogLine{
		{Stream: api.StreamStdout, Message: long[:variable.MaxLine]},
		{Stream: api.StreamStdout, Message: long[variable.MaxLine:]},
		{Stream: api.StreamStdout, Message: variable.Format(variable.SetVariable{Name: "OUT", Value: "later-S3cret", Sensitive: true})},
		{Stream: api.StreamStderr, Message: "echo later-S3cret"},
	}}
	h := newHarnessWith(t, func(c *task.Config) { c.Containers = host })
	tk, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{
		Variables: []api.Variable{{Name: "SECRET", Value: secret, Sensitive: true}},
		Steps:     []api.StepRequest{{Name: "build", Script: "make", Container: &api.Container{Image: "golang:1.26"}}},
	})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	job := h.job(w)
	if job.Env["SECRET"] != secret || !containsAll(job.Masks, secret, job.Env[task.EnvJobToken]) {
		t.Fatalf("job env/masks lack the secret or the job credential")
	}
	if _, err := h.runner.RunContainer(t.Context(), w, job.ID, &api.ContainerRunRequest{Dir: "/w/job", Command: []string{"make"}}, nil); err != nil {
		t.Fatal(err)
	}
	log := logOf(t, h.store, tk.ID)
	for _, piece := range []string{secret, secret[:8], secret[8:], "later-S3cret"} {
		if strings.Contains(log, piece) {
			t.Errorf("the task log holds %q", piece)
		}
	}
	for _, want := range []string{variable.Mask + "-end", "Output variable OUT set (sensitive)", "echo " + variable.Mask} {
		if !strings.Contains(log, want) {
			t.Errorf("task log lacks %q", want)
		}
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || l == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestStepFailsWhenASensitiveValueCannotBeDecrypted stands for a server
// whose secret key changed while a task waited: the step fails saying so,
// rather than running without its value, and its worker is released.
func TestStepFailsWhenASensitiveValueCannotBeDecrypted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{
		Variables: []api.Variable{{Name: "PASSWORD", Value: "hunter2", Sensitive: true}},
		Steps:     []api.StepRequest{{Name: "deploy", Script: "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	vs, err := h.store.VariableList(t.Context(), tk.ID)
	if err != nil || len(vs) != 1 || strings.Contains(vs[0].Value, "hunter2") {
		t.Fatalf("stored variables = %+v, %v; want one sealed value", vs, err)
	}
	vs[0].Value = "v1:c2VhbGVkIHdpdGggYW5vdGhlciBrZXkgYnkgc29tZWJvZHk="
	if err := h.store.VariableSet(t.Context(), vs[0]); err != nil {
		t.Fatal(err)
	}
	if job := h.job(w); job != nil {
		t.Fatalf("a job with an undecryptable variable was handed out: %+v", job.ID)
	}
	done := h.waitTask(tk.ID, "the task to end", finished)
	if done.State != api.StateFailed || !strings.Contains(done.Steps[0].Error, "PASSWORD cannot be decrypted") {
		t.Fatalf("task = %s, step error %q; want failed naming the variable", done.State, done.Steps[0].Error)
	}
	if st := h.workerState(w.ID); st != api.WorkerIdle {
		t.Fatalf("worker after the failed step = %s, want idle", st)
	}
}

// TestSweepDeletesArtifactsPastTheirRetention checks the retention
// arithmetic on the injected clock.
func TestSweepDeletesArtifactsPastTheirRetention(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(c *task.Config) { c.Artifacts.Retention = 30 * 24 * time.Hour })
	tk := &store.Task{ID: "task-old", TenantID: h.tenant.ID, Name: "old", State: api.StateSuccess, CreatedAt: h.clock.Now()}
	finishedAt := h.clock.Now()
	tk.FinishedAt = &finishedAt
	if err := h.store.TaskCreate(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
	if err := h.store.ArtifactBegin(t.Context(), &store.Artifact{ID: "a1", TaskID: tk.ID, Name: "x", CreatedAt: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.ArtifactCommit(t.Context(), &store.ArtifactCommitParams{ID: "a1"}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		list, err := h.store.ArtifactList(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	h.clock.Advance(29 * 24 * time.Hour)
	h.runner.SweepArtifacts(t.Context())
	if n := count(); n != 1 {
		t.Fatalf("artifacts after 29 days = %d, want 1", n)
	}
	h.clock.Advance(2 * 24 * time.Hour)
	h.runner.SweepArtifacts(t.Context())
	if n := count(); n != 0 {
		t.Fatalf("artifacts after 31 days = %d, want 0", n)
	}
}
