package task_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider/fake"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/sqlite"
	"github.com/dynpool/dynpool/internal/task"
)

// harness runs a real Runner and Fleet on a real SQLite file with the
// fake provider; the test plays the agent through the runner's job calls,
// so it can lose answers and kill workers at chosen moments.
type harness struct {
	t       *testing.T
	catalog atomic.Pointer[catalog.Catalog]
	clock   *clockwork.FakeClock
	store   store.Store
	prov    *fake.Provider
	fleet   *fleet.Fleet
	runner  *task.Runner
	tenant  *store.Tenant
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with the runner's config changed by edit.
func newHarnessWith(t *testing.T, edit func(*task.Config)) *harness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "dynpool.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	h := &harness{t: t, clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)), store: st, prov: fake.New()}
	h.catalog.Store(catalog.Builtin())
	logger := slog.New(slog.DiscardHandler)
	h.fleet, err = fleet.New(fleet.Config{
		Installation: "inst-test", ServerURL: "http://127.0.0.1:1",
		OnLost: func(w *store.Worker, reason string) { h.runner.WorkerLost(w, reason) },
		// As the server does: a worker of a build the pool no longer
		// resolves to takes no new step.
		Retire: func(_ context.Context, w *store.Worker) (string, error) {
			res, err := h.catalog.Load().Resolve("ubuntu-default", h.clock.Now())
			if err != nil || res.Build.Version != w.Build {
				return api.DestroyImageRebuilt, nil
			}
			return "", nil
		},
		Clock: h.clock, Logger: logger,
	}, st, h.prov)
	if err != nil {
		t.Fatalf("new fleet: %v", err)
	}
	cfg := task.Config{Catalog: h.catalog.Load, Clock: h.clock, Logger: logger}
	if edit != nil {
		edit(&cfg)
	}
	h.runner = task.New(cfg, st, h.fleet)
	h.tenant = &store.Tenant{ID: "t-acme", Name: "acme", APIKeyHash: "hash", CreatedAt: h.clock.Now()}
	if err := st.TenantCreate(t.Context(), h.tenant); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	pool := &store.Pool{ID: "p-linux", TenantID: h.tenant.ID, Name: "Linux", Type: api.PoolTypeDynamic, Image: "ubuntu-default", IsDefault: true, CreatedAt: h.clock.Now()}
	if err := st.PoolCreate(t.Context(), pool); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	if err := h.runner.Start(t.Context()); err != nil {
		t.Fatalf("start runner: %v", err)
	}
	t.Cleanup(func() {
		h.runner.Stop()
		st.Close()
	})
	return h
}

func (h *harness) submit(script string) *store.Task {
	h.t.Helper()
	tk, err := h.runner.Submit(h.t.Context(), h.tenant, &api.CreateTaskRequest{Steps: []api.StepRequest{{Name: "deploy", Script: script}}})
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	return tk
}

// register plays the agent of the next worker the provider creates.
func (h *harness) register() *store.Worker {
	h.t.Helper()
	select {
	case id := <-h.prov.Created:
		w, _, err := h.fleet.Register(h.t.Context(), h.prov.Token(id))
		if err != nil {
			h.t.Fatalf("register %s: %v", id, err)
		}
		return w
	case <-time.After(10 * time.Second):
		h.t.Fatal("no worker was created")
		return nil
	}
}

// waitTask polls the task until cond holds; the condition decides.
func (h *harness) waitTask(id, what string, cond func(*store.Task) bool) *store.Task {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tk, err := h.store.TaskGet(h.t.Context(), "", id)
		if err != nil {
			h.t.Fatalf("get task: %v", err)
		}
		if cond(tk) {
			return tk
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; task %s, step %+v", what, tk.State, *tk.Steps[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) job(w *store.Worker) *api.Job {
	h.t.Helper()
	job, err := h.runner.NextJob(h.t.Context(), w, 0, nil)
	if err != nil {
		h.t.Fatalf("next job: %v", err)
	}
	return job
}

func (h *harness) workerState(id string) string {
	h.t.Helper()
	w, err := h.store.WorkerGet(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("get worker: %v", err)
	}
	return w.State
}

func leased(w *store.Worker) func(*store.Task) bool {
	return func(tk *store.Task) bool { return tk.Steps[0].WorkerID == w.ID }
}

func finished(tk *store.Task) bool { return tk.FinishedAt != nil }

func logOf(t *testing.T, st store.Store, taskID string) string {
	t.Helper()
	lines, err := st.LogList(t.Context(), taskID, 0, 0)
	if err != nil {
		t.Fatalf("log: %v", err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Message + "\n")
	}
	return b.String()
}

func TestJobIsHandedAgainWhenItsAnswerWasLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("echo hi")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	first := h.job(w)
	if first == nil || first.ID != tk.Steps[0].ID {
		t.Fatalf("first poll = %+v, want the step", first)
	}
	// The answer never reached the agent, which asks again.
	again := h.job(w)
	if again == nil || again.ID != first.ID {
		t.Fatalf("second poll = %+v, want the same step handed again", again)
	}
	if err := h.runner.Complete(t.Context(), w, again.ID, &api.CompleteRequest{ExitCode: 0}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if got := h.waitTask(tk.ID, "the task to finish", finished); got.State != api.StateSuccess {
		t.Fatalf("task = %s, want success", got.State)
	}
	if got := h.workerState(w.ID); got != api.WorkerIdle {
		t.Fatalf("worker = %s, want idle after its step", got)
	}
}

func TestCancelBeforeAnyAgentTookTheJobReleasesTheWorker(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("echo must not run")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	if _, err := h.runner.Cancel(t.Context(), h.tenant.ID, tk.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	got := h.waitTask(tk.ID, "the canceled task to finish", finished)
	if got.State != api.StateCanceled || got.Steps[0].State != api.StateCanceled {
		t.Fatalf("task %s, step %s; want both canceled", got.State, got.Steps[0].State)
	}
	if job := h.job(w); job != nil {
		t.Fatalf("an agent polling after the cancel got job %s", job.ID)
	}
	if state := h.workerState(w.ID); state != api.WorkerIdle {
		t.Fatalf("worker = %s, want idle: it ran nothing", state)
	}
}

func TestStepWhoseWorkerIsLostBeforeItStartedGetsAnotherWorker(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("echo hi")
	first := h.register()
	h.waitTask(tk.ID, "the step to lease the first worker", leased(first))
	h.prov.Vanish(first.ResourceID)
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	second := h.register()
	h.waitTask(tk.ID, "the step to lease another worker", leased(second))
	job := h.job(second)
	if job == nil {
		t.Fatal("the new worker got no job")
	}
	if err := h.runner.Complete(t.Context(), second, job.ID, &api.CompleteRequest{ExitCode: 0}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if got := h.waitTask(tk.ID, "the task to finish", finished); got.State != api.StateSuccess {
		t.Fatalf("task = %s (%s), want success on the second worker", got.State, got.Steps[0].Error)
	}
	if log := logOf(t, h.store, tk.ID); !strings.Contains(log, "had not started") {
		t.Fatalf("log does not say the step was retried:\n%s", log)
	}
}

func TestStepAnAgentTookFailsWhenItsWorkerIsLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("sleep 60")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	if h.job(w) == nil {
		t.Fatal("no job")
	}
	h.prov.Vanish(w.ResourceID)
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	got := h.waitTask(tk.ID, "the task to finish", finished)
	if got.State != api.StateFailed || !strings.Contains(got.Steps[0].Error, "worker lost") {
		t.Fatalf("task %s, step error %q; want failed with 'worker lost'", got.State, got.Steps[0].Error)
	}
	// A late completion from the lost worker changes nothing.
	err := h.runner.Complete(t.Context(), w, tk.Steps[0].ID, &api.CompleteRequest{ExitCode: 0})
	if !errors.Is(err, task.ErrJobNotFound) {
		t.Fatalf("late complete = %v, want ErrJobNotFound", err)
	}
}

func TestAnotherWorkersJobIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("echo hi")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	job := h.job(w)
	other := &store.Worker{ID: "w-other", TenantID: h.tenant.ID}
	if _, err := h.runner.AppendOutput(t.Context(), other, job.ID, []api.AgentLogLine{{Message: "forged"}}); !errors.Is(err, task.ErrJobNotFound) {
		t.Fatalf("output from another worker = %v, want ErrJobNotFound", err)
	}
	if err := h.runner.Complete(t.Context(), other, job.ID, &api.CompleteRequest{}); !errors.Is(err, task.ErrJobNotFound) {
		t.Fatalf("complete from another worker = %v, want ErrJobNotFound", err)
	}
}

func TestStartReleasesAWorkerNoStepHolds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A worker leased just before a crash, before its step recorded it.
	errc := make(chan error, 1)
	go func() {
		res, err := h.catalog.Load().Resolve("ubuntu-default", h.clock.Now())
		if err != nil {
			errc <- err
			return
		}
		target := &fleet.Target{Image: res.Image.ID, Build: res.Build.Version, OS: "linux"}
		_, err = h.fleet.Acquire(t.Context(), &fleet.AcquireParams{Tenant: h.tenant, PoolID: "p-linux",
			Target: func(context.Context) (*fleet.Target, error) { return target, nil }})
		errc <- err
	}()
	w := h.register()
	if err := <-errc; err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if got := h.workerState(w.ID); got != api.WorkerBusy {
		t.Fatalf("worker = %s, want busy", got)
	}
	restarted := task.New(task.Config{Catalog: catalog.Builtin, Clock: h.clock, Logger: slog.New(slog.DiscardHandler)}, h.store, h.fleet)
	if err := restarted.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer restarted.Stop()
	// Found stranded at the start, and still a lease period later (it
	// might have been another server's lease being recorded): released.
	if got := h.workerState(w.ID); got != api.WorkerBusy {
		t.Fatalf("right after start the worker is %s, want busy until it has been stranded a lease period", got)
	}
	eventually.Holds(t, "the stranded worker to be released", 10*time.Second, func() bool {
		h.clock.Advance(task.DefaultLeasePeriod / 3)
		return h.workerState(w.ID) == api.WorkerIdle
	})
}

func TestTaskFinishesWhenItsWorkerCannotBeDestroyedAfterTheStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("echo hi")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	job := h.job(w)
	// The step outlives the worker's max lifetime, so release destroys the
	// worker, and the provider fails to.
	h.clock.Advance(fleet.DefaultMaxLifetime)
	h.prov.FailDestroys(errors.New("machine api down"))
	if err := h.runner.Complete(t.Context(), w, job.ID, &api.CompleteRequest{ExitCode: 0}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if got := h.waitTask(tk.ID, "the task to finish", finished); got.State != api.StateSuccess {
		t.Fatalf("task = %s, want success: the step ended well", got.State)
	}
	if got := h.workerState(w.ID); got != api.WorkerDestroying {
		t.Fatalf("worker = %s, want destroying, for the reaper to finish", got)
	}
}

func TestStepWaitingForAWorkerGetsTheBuildReleasedMeanwhile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.tenant.MaxWorkers = 1
	if err := h.store.TenantUpdate(t.Context(), h.tenant); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	first := h.submit("echo first")
	w1 := h.register()
	h.waitTask(first.ID, "the first step to lease the only worker", leased(w1))
	job := h.job(w1)
	second := h.submit("echo second")
	h.waitTask(second.ID, "the second step to wait", func(tk *store.Task) bool {
		return strings.Contains(logOf(t, h.store, tk.ID), "worker limit reached")
	})
	res, err := h.catalog.Load().Resolve("ubuntu-default", h.clock.Now())
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	next, err := h.catalog.Load().WithBuild(res.Image.ID, &catalog.Build{
		Version: "2026.11.29", Released: h.clock.Now(), Artifacts: res.Build.Artifacts})
	if err != nil {
		t.Fatalf("add build: %v", err)
	}
	h.catalog.Store(next)
	if err := h.runner.Complete(t.Context(), w1, job.ID, &api.CompleteRequest{ExitCode: 0}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	w2 := h.register()
	if w2.Build != "2026.11.29" {
		t.Fatalf("the waiting step's new worker has build %s, want the one released while it waited", w2.Build)
	}
	if got := h.workerState(w1.ID); got != api.WorkerDestroyed {
		t.Fatalf("worker of the old build = %s, want destroyed", got)
	}
}

func TestCancelThroughAnotherServerReachesTheRunningTask(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := h.submit("sleep 60")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	// Another server, with a hub of its own: its wake-up never reaches
	// this runner, as when a notification between replicas is lost.
	other := task.New(task.Config{Catalog: h.catalog.Load, Clock: h.clock, Logger: slog.New(slog.DiscardHandler)}, h.store, h.fleet)
	if _, err := other.Cancel(t.Context(), h.tenant.ID, tk.ID); err != nil {
		t.Fatalf("cancel through the other server: %v", err)
	}
	eventually.Holds(t, "the running task to see the cancel", 10*time.Second, func() bool {
		h.clock.Advance(task.DefaultWorkerCheckPeriod)
		got, err := h.store.TaskGet(t.Context(), "", tk.ID)
		return err == nil && got.FinishedAt != nil
	})
	got, _ := h.store.TaskGet(t.Context(), "", tk.ID)
	if got.State != api.StateCanceled || got.Steps[0].State != api.StateCanceled {
		t.Fatalf("task %s, step %s; want both canceled", got.State, got.Steps[0].State)
	}
	if state := h.workerState(w.ID); state != api.WorkerIdle {
		t.Fatalf("worker = %s, want idle: no agent took the canceled step", state)
	}
}

// A canceled step whose agent does not stop it in CancelGrace gets its
// worker destroyed; another task's step sharing that worker (a pool of
// capacity 2) fails at once saying why, not later as "unresponsive"
// (found by review).
func TestDestroyingAStuckWorkerFailsItsOtherStepsWithTheReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pool, err := h.store.PoolGet(t.Context(), h.tenant.ID, "p-linux")
	if err != nil {
		t.Fatal(err)
	}
	pool.Capacity = 2
	if err := h.store.PoolUpdate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	stuck := h.submit("sleep 600")
	w := h.register()
	h.waitTask(stuck.ID, "the first step to lease the worker", leased(w))
	other := h.submit("sleep 600")
	h.waitTask(other.ID, "the second step to share it", leased(w))
	// The agent takes both jobs, naming the one it runs when it asks
	// for the next.
	first := h.job(w)
	if first == nil {
		t.Fatal("the agent got no job")
	}
	if second, err := h.runner.NextJob(t.Context(), w, 0, []string{first.ID}); err != nil || second == nil || second.ID == first.ID {
		t.Fatalf("second job = %+v, %v; want the other step", second, err)
	}
	if _, err := h.runner.Cancel(t.Context(), h.tenant.ID, stuck.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	// The agent never reports the canceled job ended.
	got := h.waitTask(other.ID, "the other task to end", func(tk *store.Task) bool {
		h.clock.Advance(task.DefaultCancelGrace / 4)
		return finished(tk)
	})
	if got.State != api.StateFailed || !strings.Contains(got.Steps[0].Error, "canceled step \"deploy\" of task "+stuck.ID+" would not stop") {
		t.Fatalf("other task %s: %q; want failed naming the canceled step", got.State, got.Steps[0].Error)
	}
	if got := h.waitTask(stuck.ID, "the canceled task to end", finished); got.State != api.StateCanceled {
		t.Errorf("canceled task ended %s", got.State)
	}
	if state := h.workerState(w.ID); state != api.WorkerDestroyed {
		t.Errorf("worker = %s, want destroyed", state)
	}
}
