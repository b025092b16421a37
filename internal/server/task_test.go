package server_test

import (
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
)

func TestTaskRunsOnDynamicWorkersEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c,
		api.StepRequest{Name: "build", Syntax: api.SyntaxBash, Script: "echo built $((6*7))\necho to-stderr >&2"},
		api.StepRequest{Name: "compute", Syntax: api.SyntaxPython, Script: "print(sum(range(10)))"},
		api.StepRequest{Name: "identity", Syntax: api.SyntaxSh, Script: `echo "worker=$DYNPOOL_WORKER_ID"; printf 'nul\0byte\n'`},
	)
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s), want success; log:\n%s", task.State, task.Error, dump(lines))
	}
	for _, want := range []struct{ level, text string }{
		{api.LevelInfo, "built 42"},
		{api.LevelWarning, "to-stderr"},
		{api.LevelInfo, "45"},
		{api.LevelInfo, "worker=w-"},
		{api.LevelInfo, "nul\uFFFDbyte"},
		{api.LevelInfo, "Ubuntu (default) → Ubuntu Server 18.04, build"},
		{api.LevelInfo, "Leased worker w-"},
		{api.LevelInfo, "creating worker w-"},
		{api.LevelInfo, "Task success"},
	} {
		if !logHas(lines, want.level, want.text) {
			t.Errorf("task log has no %s line with %q; log:\n%s", want.level, want.text, dump(lines))
		}
	}
	for _, st := range task.Steps {
		if st.State != api.StateSuccess || st.WorkerID == "" || st.ExitCode == nil || *st.ExitCode != 0 {
			t.Errorf("step %q = %+v, want success with a worker and exit code 0", st.Name, st)
		}
	}
	workers, err := c.ListWorkers(t.Context(), false)
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	if len(workers) == 0 {
		t.Fatal("no live worker after the task")
	}
	for _, w := range workers {
		if w.State != api.WorkerIdle || w.Image != "ubuntu-18.04" || w.Provider != "process" || w.LastUsedAt == nil || w.DestroyAt == nil {
			t.Errorf("worker after the task = %+v, want idle ubuntu-18.04 process worker with last use and destroy time", w)
		}
	}
}

func TestFailedStepFailsTaskAndSkipsTheRest(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c,
		api.StepRequest{Name: "migrate", Script: "echo migrating; exit 3"},
		api.StepRequest{Name: "deploy", Script: "echo must not run"},
	)
	if task.State != api.StateFailed || !strings.Contains(task.Error, `"migrate"`) {
		t.Fatalf("task = %s (%q), want failed naming the step", task.State, task.Error)
	}
	if st := task.Steps[0]; st.State != api.StateFailed || st.ExitCode == nil || *st.ExitCode != 3 || !strings.Contains(st.Error, "exited with code 3") {
		t.Fatalf("failed step = %+v, want failed with exit code 3", st)
	}
	if st := task.Steps[1]; st.State != api.StateSkipped || st.WorkerID != "" {
		t.Fatalf("step after the failure = %+v, want skipped without a worker", st)
	}
	if logHas(lines, "", "must not run") {
		t.Fatal("the skipped step ran")
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme, globex := s.tenant(t, "acme"), s.tenant(t, "globex")
	acmeTask, _ := runTask(t, acme, api.StepRequest{Script: "echo acme"})
	globexTask, _ := runTask(t, globex, api.StepRequest{Script: "echo globex"})
	if acmeTask.State != api.StateSuccess || globexTask.State != api.StateSuccess {
		t.Fatalf("tasks = %s, %s; want both success", acmeTask.State, globexTask.State)
	}
	if acmeTask.Steps[0].WorkerID == globexTask.Steps[0].WorkerID {
		t.Fatalf("both tenants' steps ran on worker %s", acmeTask.Steps[0].WorkerID)
	}
	if _, err := globex.GetTask(t.Context(), acmeTask.ID); !isStatus(err, 404) {
		t.Errorf("globex reading acme's task: %v, want 404", err)
	}
	if _, err := globex.TaskLog(t.Context(), acmeTask.ID); !isStatus(err, 404) {
		t.Errorf("globex reading acme's task log: %v, want 404", err)
	}
	if _, err := globex.CancelTask(t.Context(), acmeTask.ID); !isStatus(err, 404) {
		t.Errorf("globex canceling acme's task: %v, want 404", err)
	}
	acmePools, _ := acme.ListPools(t.Context())
	if _, err := globex.GetPool(t.Context(), acmePools[0].ID); !isStatus(err, 404) {
		t.Errorf("globex reading acme's pool: %v, want 404", err)
	}
	ws, err := globex.ListWorkers(t.Context(), true)
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	for _, w := range ws {
		if w.ID == acmeTask.Steps[0].WorkerID {
			t.Fatalf("globex sees acme's worker %s", w.ID)
		}
	}
	all, err := s.admin.AdminListWorkers(t.Context())
	if err != nil {
		t.Fatalf("admin list workers: %v", err)
	}
	tenants := map[string]string{}
	for _, w := range all {
		tenants[w.ID] = w.TenantID
	}
	if tenants[acmeTask.Steps[0].WorkerID] == tenants[globexTask.Steps[0].WorkerID] {
		t.Fatalf("admin view: both workers belong to %s", tenants[acmeTask.Steps[0].WorkerID])
	}
}

func TestIdleWorkerIsDestroyedAndItsProcessEnds(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) { c.IdleTimeout = time.Second })
	c := s.tenant(t, "acme")
	task, _ := runTask(t, c, api.StepRequest{Script: "echo hi"})
	wid := task.Steps[0].WorkerID
	if len(workerPIDs(wid)) == 0 {
		t.Fatalf("no process of worker %s after its step", wid)
	}
	var w api.Worker
	eventually.Holds(t, "the idle worker to be destroyed", 10*time.Second, func() bool {
		ws, err := c.ListWorkers(t.Context(), true)
		if err != nil {
			t.Fatalf("list workers: %v", err)
		}
		i := slices.IndexFunc(ws, func(w api.Worker) bool { return w.ID == wid })
		w = ws[i]
		return w.State == api.WorkerDestroyed
	})
	if w.DestroyReason != api.DestroyIdleTimeout {
		t.Fatalf("destroy reason = %q, want idle-timeout", w.DestroyReason)
	}
	if pids := workerPIDs(wid); len(pids) != 0 {
		t.Fatalf("processes %v of destroyed worker %s still run", pids, wid)
	}
}

func TestAgentKilledMidStepFailsTheStepAndDestroysTheWorker(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{
		{Name: "long", Script: "echo started; sleep 300"},
		{Name: "after", Script: "echo must not run"},
	}})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	var wid string
	eventually.Holds(t, "the step to start", 30*time.Second, func() bool {
		lines, err := c.TaskLog(t.Context(), task.ID)
		if err != nil {
			t.Fatalf("task log: %v", err)
		}
		got, _ := c.GetTask(t.Context(), task.ID)
		wid = got.Steps[0].WorkerID
		return logHas(lines, api.LevelInfo, "started")
	})
	pids := workerPIDs(wid)
	if len(pids) < 2 {
		t.Fatalf("worker %s has processes %v, want its agent and the script", wid, pids)
	}
	agentPID := slices.Min(pids) // the agent started before its script
	if err := syscall.Kill(agentPID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill agent: %v", err)
	}
	var got *api.Task
	eventually.Holds(t, "the task to end", 30*time.Second, func() bool {
		got, err = c.GetTask(t.Context(), task.ID)
		if err != nil {
			t.Fatalf("get task: %v", err)
		}
		return got.State == api.StateFailed
	})
	if st := got.Steps[0]; st.State != api.StateFailed || !strings.Contains(st.Error, "worker lost") || !strings.Contains(st.Error, wid) {
		t.Fatalf("step = %+v, want failed with a 'worker lost' reason naming %s", st, wid)
	}
	if got.Steps[1].State != api.StateSkipped {
		t.Fatalf("next step = %s, want skipped", got.Steps[1].State)
	}
	eventually.Holds(t, "the worker's processes to end", 10*time.Second, func() bool { return len(workerPIDs(wid)) == 0 })
	// The step fails as soon as the worker is found lost; its record says
	// lost once the provider has ended what was left of it.
	eventually.Holds(t, "the worker to be recorded lost", 10*time.Second, func() bool {
		w := workerByID(t, c, wid)
		return w.State == api.WorkerLost && w.DestroyReason == api.DestroyWorkerLost
	})
}

func TestCancelStopsTheScriptAndKeepsTheWorker(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{
		{Name: "long", Script: "echo started; sleep 300"},
	}})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	var wid string
	eventually.Holds(t, "the step to start", 30*time.Second, func() bool {
		lines, _ := c.TaskLog(t.Context(), task.ID)
		got, _ := c.GetTask(t.Context(), task.ID)
		wid = got.Steps[0].WorkerID
		return logHas(lines, api.LevelInfo, "started")
	})
	if _, err := c.CancelTask(t.Context(), task.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	var got *api.Task
	eventually.Holds(t, "the step to end canceled", 30*time.Second, func() bool {
		got, _ = c.GetTask(t.Context(), task.ID)
		return got.Steps[0].State == api.StateCanceled
	})
	if got.State != api.StateCanceled {
		t.Fatalf("task = %s, want canceled", got.State)
	}
	eventually.Holds(t, "the worker to be idle again", 10*time.Second, func() bool {
		ws, _ := c.ListWorkers(t.Context(), false)
		return len(ws) == 1 && ws[0].ID == wid && ws[0].State == api.WorkerIdle
	})
	if pids := workerPIDs(wid); len(pids) != 1 {
		t.Fatalf("worker %s has processes %v after cancel, want only its agent", wid, pids)
	}
}

func isStatus(err error, status int) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == status
}

func dump(lines []api.LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Level + " [" + l.Step + "] " + l.Message + "\n")
	}
	return b.String()
}
