package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
)

// envStaticAgent makes the test binary `dynpool agent run` with the
// credential file it names (and DYNPOOL_AGENT_WORKDIR): a machine of a
// static pool, started by the test itself.
const envStaticAgent = "DYNPOOL_TEST_STATIC_AGENT"

// runStaticAgentIfAsked runs the static agent and exits, when the test
// binary was started as one.
func runStaticAgentIfAsked() {
	path := os.Getenv(envStaticAgent)
	if path == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := agent.RunWithCredential(ctx, path, os.Getenv(agent.EnvWorkDir), nil); err != nil {
		fmt.Fprintln(os.Stderr, "static agent:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// machine is a static agent process the test started.
type machine struct {
	workerID string
	cred     string // the credential file
	cmd      *exec.Cmd
	// exited is closed when the process ended, with its error in err.
	exited chan struct{}
	err    error
}

// register registers a machine named name into pool with a fresh token
// and starts its agent.
func registerMachine(t *testing.T, s *testServer, c *client.Client, pool, name string) *machine {
	t.Helper()
	tok, err := c.CreateRegistrationToken(t.Context(), pool, "")
	if err != nil {
		t.Fatalf("create registration token: %v", err)
	}
	cred, err := agent.RegisterStatic(t.Context(), agent.RegisterStaticParams{ServerURL: s.URL(), Token: tok.Token, Pool: pool, Name: name})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	path := filepath.Join(t.TempDir(), "agent.json")
	if err := agent.SaveCredential(path, cred); err != nil {
		t.Fatalf("save credential: %v", err)
	}
	m := &machine{workerID: cred.WorkerID, cred: path}
	m.start(t)
	return m
}

// start runs the machine's agent process until it exits or the test ends.
func (m *machine) start(t *testing.T) {
	t.Helper()
	m.cmd = exec.Command(os.Args[0])
	m.cmd.Env = append(os.Environ(), envStaticAgent+"="+m.cred, agent.EnvWorkDir+"="+t.TempDir())
	m.cmd.Stderr = testWriter{t}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	m.exited = make(chan struct{})
	cmd, exited := m.cmd, m.exited
	go func() {
		m.err = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
}

// kill ends the agent process at once, as a machine that dies does.
func (m *machine) kill(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill agent: %v", err)
	}
	<-m.exited
}

func staticServer(t *testing.T) *testServer {
	return startServer(t, func(c *server.Config) {
		c.HeartbeatInterval = 100 * time.Millisecond
		c.HeartbeatTimeout = time.Second
	})
}

func TestStaticPool(t *testing.T) {
	t.Parallel()
	// The server's own figures (5s, 30s) are not the pool's: the pool's
	// machine policy decides when a silent machine is unavailable.
	s := startServer(t, nil)
	acme := s.tenant(t, "acme") // with dynamic pool "Linux"
	ctx := t.Context()
	policy := &api.MachinePolicy{HeartbeatInterval: "1s", UnavailableAfter: "5s"} // 2s failed once under load: a live agent's first heartbeat came later
	pool, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic, MachinePolicy: policy})
	if err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	if pool.Type != api.PoolTypeStatic || pool.Image != "" || len(pool.Warnings) != 0 || *pool.MachinePolicy != *policy {
		t.Fatalf("static pool = %+v", pool)
	}
	m1 := registerMachine(t, s, acme, "machines", "box-1")
	m2 := registerMachine(t, s, acme, pool.ID, "box-2")

	// A task naming the static and the dynamic pool runs each step on the
	// right kind of worker; the static steps use both machines.
	step := func(name, pool string) api.StepRequest {
		return api.StepRequest{Name: name, Pool: pool, Syntax: "bash", Script: "echo on $DYNPOOL_WORKER_ID"}
	}
	task, lines := runTask(t, acme, step("s1", "machines"), step("d1", "Linux"), step("s2", "machines"))
	if task.State != api.StateSuccess {
		t.Fatalf("task %s: %+v", task.State, task.Steps)
	}
	static := []string{m1.workerID, m2.workerID}
	if !slices.Contains(static, task.Steps[0].WorkerID) || !slices.Contains(static, task.Steps[2].WorkerID) ||
		task.Steps[0].WorkerID == task.Steps[2].WorkerID {
		t.Fatalf("static steps ran on %s and %s, want one on each of %v", task.Steps[0].WorkerID, task.Steps[2].WorkerID, static)
	}
	if d := workerByID(t, acme, task.Steps[1].WorkerID); d.Provider != "process" {
		t.Fatalf("dynamic step ran on a %s worker", d.Provider)
	}
	if !logHas(lines, api.LevelInfo, "static machine \"box-") {
		t.Errorf("the log does not name the static machine")
	}
	// The pool's worker list shows both machines, with their agents'
	// version once they heartbeated.
	eventually.Holds(t, "both agents reported their version", 10*time.Second, func() bool {
		ws, err := acme.ListPoolWorkers(ctx, "machines", false)
		if err != nil {
			t.Fatalf("list pool workers: %v", err)
		}
		var ids []string
		for _, w := range ws {
			if w.Provider != api.ProviderStatic || w.Image != "" || w.DestroyAt != nil || w.LastHeartbeatAt == nil || w.PoolID != pool.ID {
				t.Fatalf("static worker = %+v", w)
			}
			if w.AgentVersion != "" {
				ids = append(ids, w.ID)
			}
		}
		return len(ws) == 2 && slices.Contains(ids, m1.workerID) && slices.Contains(ids, m2.workerID)
	})

	// One machine dies: steps go to the other, and after the pool's
	// unavailable-after it shows unavailable.
	m1.kill(t)
	task, _ = runTask(t, acme, step("a", "machines"), step("b", "machines"))
	if task.State != api.StateSuccess || task.Steps[0].WorkerID != m2.workerID || task.Steps[1].WorkerID != m2.workerID {
		t.Fatalf("after a machine died: task %s, steps %+v; want both on %s", task.State, task.Steps, m2.workerID)
	}
	eventually.Holds(t, "the dead machine shows unavailable", 30*time.Second, func() bool {
		return workerByID(t, acme, m1.workerID).State == api.WorkerUnavailable
	})
	// It comes back with its stored credential: idle again.
	m1.start(t)
	eventually.Holds(t, "the restarted machine is idle again", 10*time.Second, func() bool {
		return workerByID(t, acme, m1.workerID).State == api.WorkerIdle
	})

	// Deleted: its credential dies and its agent stops.
	if err := acme.DeleteWorker(ctx, m2.workerID); err != nil {
		t.Fatalf("delete worker: %v", err)
	}
	<-m2.exited
	if m2.err != nil {
		t.Fatalf("the deleted machine's agent: %v", m2.err)
	}
	if w := workerByID(t, acme, m2.workerID); w.State != api.WorkerDestroyed || w.DestroyReason != api.DestroyDeleted {
		t.Fatalf("deleted worker = %+v", w)
	}
	err = acme.DeleteWorker(ctx, task.Steps[0].WorkerID)
	wantStatus(t, "delete it again", err, http.StatusConflict, "")
}

func TestStaticRegistrationRefused(t *testing.T) {
	t.Parallel()
	s := staticServer(t)
	acme, other := s.tenant(t, "acme"), s.tenant(t, "other")
	ctx := t.Context()
	pool, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic})
	if err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	if _, err := other.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic}); err != nil {
		t.Fatalf("create other's static pool: %v", err)
	}
	register := func(token, pool string) error {
		_, err := agent.RegisterStatic(ctx, agent.RegisterStaticParams{ServerURL: s.URL(), Token: token, Pool: pool, Name: "box"})
		return err
	}

	tok, err := acme.CreateRegistrationToken(ctx, pool.ID, "")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	if d := time.Until(tok.ExpiresAt); d <= 59*time.Minute || d > time.Hour {
		t.Errorf("a token expires in %s, want an hour", d)
	}
	if err := register(tok.Token, "machines"); err != nil {
		t.Fatalf("register: %v", err)
	}
	wantAgentStatus(t, "a replayed token", register(tok.Token, "machines"), http.StatusUnauthorized)

	expired, err := acme.CreateRegistrationToken(ctx, pool.ID, "1ns")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	wantAgentStatus(t, "an expired token", register(expired.Token, "machines"), http.StatusUnauthorized)

	othersTok, err := other.CreateRegistrationToken(ctx, "machines", "")
	if err != nil {
		t.Fatalf("create other's token: %v", err)
	}
	wantAgentStatus(t, "another tenant's token", register(othersTok.Token, pool.ID), http.StatusUnauthorized)

	_, err = other.CreateRegistrationToken(ctx, pool.ID, "")
	wantStatus(t, "a token for another tenant's pool", err, http.StatusNotFound, "")
	_, err = acme.CreateRegistrationToken(ctx, "Linux", "")
	wantStatus(t, "a token for a dynamic pool", err, http.StatusConflict, "")
	_, err = acme.CreateRegistrationToken(ctx, pool.ID, "forever")
	wantStatus(t, "a bad ttl", err, http.StatusBadRequest, "")
	_, err = acme.CreatePool(ctx, api.CreatePoolRequest{Name: "imaged", Type: api.PoolTypeStatic, Image: "ubuntu-default"})
	wantStatus(t, "a static pool with an image", err, http.StatusBadRequest, "")

	ws, err := acme.ListWorkers(ctx, false)
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	if len(ws) != 1 {
		t.Fatalf("acme has %d workers, want the one registered", len(ws))
	}
	err = other.DeleteWorker(ctx, ws[0].ID)
	wantStatus(t, "deleting another tenant's worker", err, http.StatusNotFound, "")

	// A static pool with a machine in it is not deleted: the machine's
	// credential would live on. Without its machines it is.
	err = acme.DeletePool(ctx, pool.ID)
	wantStatus(t, "deleting a static pool that has a machine", err, http.StatusConflict, "delete them first")
	if w := workerByID(t, acme, ws[0].ID); w.State != api.WorkerIdle {
		t.Fatalf("after the refused pool delete the machine is %s, want idle", w.State)
	}
	if err := acme.DeleteWorker(ctx, ws[0].ID); err != nil {
		t.Fatalf("delete worker: %v", err)
	}
	if err := acme.DeletePool(ctx, pool.ID); err != nil {
		t.Fatalf("delete the emptied static pool: %v", err)
	}
}

// TestStaticPoolWaitsWhenBusy: a step on a static pool whose machines are
// all gone waits and fails at the lease timeout, saying why; none is made.
func TestStaticPoolWaitsWhenBusy(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) { c.LeaseTimeout = 500 * time.Millisecond })
	acme := s.tenant(t, "acme")
	if _, err := acme.CreatePool(t.Context(), api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	task, _ := runTask(t, acme, api.StepRequest{Name: "s", Pool: "machines", Syntax: "bash", Script: "true"})
	if task.State != api.StateFailed || !strings.Contains(task.Steps[0].Error, "static pool machines has no healthy worker") {
		t.Fatalf("task %s, step error %q", task.State, task.Steps[0].Error)
	}
	ws, err := acme.ListWorkers(t.Context(), true)
	if err != nil || len(ws) != 0 {
		t.Fatalf("workers %+v, %v; want none made", ws, err)
	}
}

// wantAgentStatus fails t unless err is an agent call answered status.
func wantAgentStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var se *agent.StatusError
	if !errors.As(err, &se) || se.Status != status {
		t.Fatalf("%s: err = %v, want status %d", what, err, status)
	}
}

// TestUnavailableStaticWorkerStopsTheScriptTheServerFailed: a machine
// whose agent froze while running a silent script is found unavailable
// and its step fails. When the agent comes back it is told to stop that
// script, and the worker turns idle only once it has: the next step does
// not land on an agent still busy with a script nobody waits for.
func TestUnavailableStaticWorkerStopsTheScriptTheServerFailed(t *testing.T) {
	t.Parallel()
	s := staticServer(t)
	acme := s.tenant(t, "acme")
	if _, err := acme.CreatePool(t.Context(), api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	m := registerMachine(t, s, acme, "machines", "box-1")
	pidFile := filepath.Join(t.TempDir(), "script.pid")
	frozen := make(chan struct{})
	go func() {
		defer close(frozen)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(pidFile); err == nil {
				if err := m.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
					t.Errorf("freeze agent: %v", err)
				}
				return
			}
		}
		t.Errorf("the script never started")
	}()
	// The script ignores SIGTERM: the agent needs ScriptKillGrace to stop
	// it, and the worker must not be idle meanwhile.
	script := fmt.Sprintf("trap '' TERM; echo $$ > %[1]s.tmp && mv %[1]s.tmp %[1]s; sleep 60", pidFile)
	task, _ := runTask(t, acme, api.StepRequest{Name: "silent", Pool: "machines", Syntax: "bash", Script: script})
	<-frozen
	if task.State != api.StateFailed || !strings.Contains(task.Steps[0].Error, "unavailable") {
		t.Fatalf("task %s, step error %q; want failed because the worker is unavailable", task.State, task.Steps[0].Error)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read script pid: %v", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil {
		t.Fatalf("script pid %q: %v", data, err)
	}

	if err := m.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("thaw agent: %v", err)
	}
	eventually.Holds(t, "the machine is idle again", 10*time.Second, func() bool {
		return workerByID(t, acme, m.workerID).State == api.WorkerIdle
	})
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("the failed step's script (pid %d) still runs on a worker shown idle: kill -0 = %v", pid, err)
	}
	task, _ = runTask(t, acme, api.StepRequest{Name: "next", Pool: "machines", Syntax: "bash", Script: "true"})
	if task.State != api.StateSuccess || task.Steps[0].WorkerID != m.workerID {
		t.Fatalf("next task %s on %s, want success on %s", task.State, task.Steps[0].WorkerID, m.workerID)
	}
}

// TestDisabledStaticWorkerGetsNoStep: a disabled machine stays registered
// and heartbeating but takes no step; enabled again, it does. Only the
// tenant's own static workers are disabled.
func TestDisabledStaticWorkerGetsNoStep(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) { c.LeaseTimeout = time.Second })
	acme, other := s.tenant(t, "acme"), s.tenant(t, "other")
	ctx := t.Context()
	if _, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	m := registerMachine(t, s, acme, "machines", "box-1")
	w, err := acme.SetWorkerDisabled(ctx, m.workerID, true)
	if err != nil || !w.Disabled || w.State != api.WorkerIdle {
		t.Fatalf("disable = %+v, %v; want an idle disabled worker", w, err)
	}
	step := api.StepRequest{Name: "s", Pool: "machines", Syntax: "bash", Script: "true"}
	task, _ := runTask(t, acme, step)
	if task.State != api.StateFailed || !strings.Contains(task.Steps[0].Error, "all 1 worker of static pool machines are disabled") {
		t.Fatalf("task on a disabled machine: %s, %q", task.State, task.Steps[0].Error)
	}
	ws, err := acme.ListPoolWorkers(ctx, "machines", false)
	if err != nil || len(ws) != 1 || !ws[0].Disabled || ws[0].State != api.WorkerIdle {
		t.Fatalf("pool workers %+v, %v; want the machine, idle and disabled", ws, err)
	}

	_, err = other.SetWorkerDisabled(ctx, m.workerID, false)
	wantStatus(t, "enabling another tenant's worker", err, http.StatusNotFound, "")
	if w, err = acme.SetWorkerDisabled(ctx, m.workerID, false); err != nil || w.Disabled {
		t.Fatalf("enable = %+v, %v", w, err)
	}
	task, _ = runTask(t, acme, step)
	if task.State != api.StateSuccess || task.Steps[0].WorkerID != m.workerID {
		t.Fatalf("task on the enabled machine: %s on %s", task.State, task.Steps[0].WorkerID)
	}

	// A dynamic worker, on a server whose lease timeout leaves a busy
	// machine time to start one.
	roomy := startServer(t, nil)
	globex := roomy.tenant(t, "globex")
	task, lines := runTask(t, globex, api.StepRequest{Name: "d", Syntax: "bash", Script: "true"})
	if task.State != api.StateSuccess {
		t.Fatalf("task on the dynamic pool: %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	_, err = globex.SetWorkerDisabled(ctx, task.Steps[0].WorkerID, true)
	wantStatus(t, "disabling a dynamic worker", err, http.StatusConflict, "made by a provider")
	_, err = acme.ListPoolWorkers(ctx, "nope", false)
	wantStatus(t, "the workers of an unknown pool", err, http.StatusNotFound, "")
	_, err = acme.CreatePool(ctx, api.CreatePoolRequest{Name: "fast", Type: api.PoolTypeStatic,
		MachinePolicy: &api.MachinePolicy{HeartbeatInterval: "10s", UnavailableAfter: "15s"}})
	wantStatus(t, "unavailable after less than two heartbeats", err, http.StatusBadRequest, "two heartbeat intervals")
	_, err = acme.UpdatePool(ctx, "Linux", api.UpdatePoolRequest{MachinePolicy: &api.MachinePolicy{HeartbeatInterval: "10s"}})
	wantStatus(t, "a machine policy on a dynamic pool", err, http.StatusBadRequest, "static pools")
}
