package process

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/provider"
)

// newProvider returns a Provider of an installation of its own, running
// command as the agent.
func newProvider(t *testing.T, command ...string) *Provider {
	t.Helper()
	p, err := New(Config{
		Installation: "test-" + strconv.Itoa(os.Getpid()) + "-" + strings.ReplaceAll(t.Name(), "/", "-"),
		Dir:          t.TempDir(),
		Command:      command,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func create(t *testing.T, p *Provider, workerID string) *provider.Resource {
	t.Helper()
	r, err := p.Create(t.Context(), &provider.CreateParams{
		WorkerID:          workerID,
		TenantID:          "tenant-1",
		OS:                "linux",
		ServerURL:         "http://127.0.0.1:1",
		RegistrationToken: "reg-token",
		Labels:            labels(p, workerID),
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Destroy(context.Background(), workerID); err != nil { // t.Context() is done in cleanups
			t.Errorf("Destroy in cleanup: %v", err)
		}
	})
	return r
}

func labels(p *Provider, workerID string) map[string]string {
	return map[string]string{
		provider.LabelInstallation: p.cfg.Installation,
		provider.LabelWorker:       workerID,
		provider.LabelTenant:       "tenant-1",
	}
}

// listed returns the resource of workerID in p.List, or nil.
func listed(t *testing.T, p *Provider, workerID string) *provider.Resource {
	t.Helper()
	rs, err := p.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, r := range rs {
		if r.ID == workerID {
			return r
		}
	}
	return nil
}

// readPids waits for the file name (written by the command with a rename)
// in dir and returns the pids it lists.
func readPids(t *testing.T, path string) []int {
	t.Helper()
	var data []byte
	eventually.Holds(t, path, 20*time.Second, func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil
	})
	var pids []int
	for f := range strings.FieldsSeq(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pid file %s holds %q", path, data)
		}
		pids = append(pids, pid)
	}
	return pids
}

func live(pid int) bool {
	_, ok := readStat(pid)
	return ok
}

func TestCreateListDestroy(t *testing.T) {
	t.Parallel()
	// The agent stand-in backgrounds a child in its group and a child in a
	// session of its own, then waits; it records their pids.
	p := newProvider(t, "sh", "-c",
		`sleep 300 & a=$!; setsid sleep 300 & b=$!; echo "$$ $a $b" > pids.tmp; mv pids.tmp pids; echo "$DYNPOOL_SERVER $DYNPOOL_AGENT_TOKEN $DYNPOOL_AGENT_WORKDIR"; wait`)
	r := create(t, p, "w-1")
	dir := filepath.Join(p.cfg.Dir, "w-1")
	if r.ID != "w-1" || !maps.Equal(r.Labels, labels(p, "w-1")) {
		t.Errorf("Create = %+v, want id w-1 with the labels", r)
	}
	pids := readPids(t, filepath.Join(dir, "pids"))
	eventually.Holds(t, "the agent log", 20*time.Second, func() bool {
		log, _ := os.ReadFile(filepath.Join(dir, agentLog))
		return string(log) == "http://127.0.0.1:1 reg-token "+dir+"\n"
	})

	got := listed(t, p, "w-1")
	if got == nil {
		t.Fatalf("List does not show worker w-1")
	}
	if !maps.Equal(got.Labels, labels(p, "w-1")) {
		t.Errorf("List labels = %v, want %v", got.Labels, labels(p, "w-1"))
	}

	if err := p.Destroy(t.Context(), "w-1"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for _, pid := range pids {
		if live(pid) {
			t.Errorf("process %d is alive after Destroy", pid)
		}
	}
	if listed(t, p, "w-1") != nil {
		t.Errorf("List shows worker w-1 after Destroy")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("worker dir after Destroy: %v, want it gone", err)
	}
	if err := p.Destroy(t.Context(), "w-1"); err != nil {
		t.Errorf("second Destroy = %v, want nil", err)
	}
}

func TestDestroyUnknownIsNil(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "true")
	if err := p.Destroy(t.Context(), "never-made"); err != nil {
		t.Errorf("Destroy = %v, want nil", err)
	}
}

func TestDestroyConcurrent(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "sh", "-c", "sleep 300 & wait")
	create(t, p, "w-1")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = p.Destroy(t.Context(), "w-1") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Destroy %d = %v, want nil", i, err)
		}
	}
	if listed(t, p, "w-1") != nil {
		t.Errorf("List shows worker w-1 after Destroy")
	}
}

func TestDestroyTermIgnored(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "sh", "-c", `trap "" TERM; echo $$ > ready.tmp; mv ready.tmp ready; while :; do sleep 0.05; done`)
	create(t, p, "w-1")
	readPids(t, filepath.Join(p.cfg.Dir, "w-1", "ready"))
	if err := p.Destroy(t.Context(), "w-1"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if listed(t, p, "w-1") != nil {
		t.Errorf("List shows worker w-1 after Destroy")
	}
}

func TestListDropsExitedAgent(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "sh", "-c", "sleep 0.2")
	create(t, p, "w-1")
	eventually.Holds(t, "the exited agent to leave List", 20*time.Second, func() bool { return listed(t, p, "w-1") == nil })
}

func TestListDropsWorkerWhoseAgentDiedWhileAScriptLingers(t *testing.T) {
	t.Parallel()
	// The "agent" starts a long script without the registration token in
	// its environment (as the real agent does), then dies.
	p := newProvider(t, "sh", "-c", "env -u "+provider.EnvAgentToken+" sleep 300 & sleep 0.2")
	create(t, p, "w-1")
	eventually.Holds(t, "the dead agent's worker to leave List", 20*time.Second, func() bool { return listed(t, p, "w-1") == nil })
	procs, err := scan(p.cfg.Installation, "w-1")
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(procs) == 0 {
		t.Fatal("the lingering script is not running; the test proves nothing")
	}
	if err := p.Destroy(t.Context(), "w-1"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if procs, _ := scan(p.cfg.Installation, "w-1"); len(procs) != 0 {
		t.Fatalf("Destroy left %d lingering script process(es)", len(procs))
	}
}

func TestListShowsOwnInstallationOnly(t *testing.T) {
	t.Parallel()
	mine := newProvider(t, "sleep", "300")
	other := newProvider(t, "sleep", "300")
	other.cfg.Installation += "-other"
	create(t, mine, "w-mine")
	create(t, other, "w-other")
	eventually.Holds(t, "both workers to be listed", 20*time.Second, func() bool {
		return listed(t, mine, "w-mine") != nil && listed(t, other, "w-other") != nil
	})
	if listed(t, mine, "w-other") != nil {
		t.Errorf("List shows another installation's worker")
	}
	if err := mine.Destroy(t.Context(), "w-other"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if listed(t, other, "w-other") == nil {
		t.Errorf("Destroy of another installation's worker id killed it")
	}
}

func TestListSurvivesRestart(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "sleep", "300")
	create(t, p, "w-1")
	restarted, err := New(p.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if listed(t, restarted, "w-1") == nil {
		t.Fatalf("a new Provider of the same installation does not list w-1")
	}
	if err := restarted.Destroy(t.Context(), "w-1"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if listed(t, p, "w-1") != nil {
		t.Errorf("w-1 is still listed after a new Provider destroyed it")
	}
}

// readSession returns the session id of pid from /proc/<pid>/stat.
func readSession(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatalf("read stat of %d: %v", pid, err)
	}
	// "pid (comm) state ppid pgrp session ..."
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	sid, err := strconv.Atoi(fields[3])
	if err != nil {
		t.Fatalf("stat of %d: session %q", pid, fields[3])
	}
	return sid
}

func TestCreateStartsAgentInItsOwnSession(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "sh", "-c", `sleep 300 & echo "$$ $!" > pids.tmp; mv pids.tmp pids; wait`)
	create(t, p, "w-1")
	pids := readPids(t, filepath.Join(p.cfg.Dir, "w-1", "pids"))
	agentPid, script := pids[0], pids[1]
	if sid := readSession(t, agentPid); sid != agentPid {
		t.Errorf("agent %d is in session %d, want a session of its own", agentPid, sid)
	}
	if pgid, _ := readStat(agentPid); pgid != agentPid {
		t.Errorf("agent %d is in process group %d, want a group of its own", agentPid, pgid)
	}
	if sid := readSession(t, script); sid != agentPid {
		t.Errorf("the agent's child is in session %d, want the agent's %d", sid, agentPid)
	}
	if err := p.Destroy(t.Context(), "w-1"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for _, pid := range pids {
		if live(pid) {
			t.Errorf("process %d is alive after Destroy", pid)
		}
	}
}

func TestKillGraceOutlastsTheAgents(t *testing.T) {
	t.Parallel()
	if killGrace <= agent.ScriptKillGrace {
		t.Errorf("killGrace = %s, want more than the agent's ScriptKillGrace %s so the agent can stop its script first", killGrace, agent.ScriptKillGrace)
	}
}

func TestDestroyDoesNotWaitOutTheGrace(t *testing.T) {
	t.Parallel()
	// The agent stand-in and its child die on SIGTERM at once; Destroy
	// must see that and return, well before killGrace would end.
	p := newProvider(t, "sh", "-c", `sleep 300 & echo "$$ $!" > pids.tmp; mv pids.tmp pids; wait`)
	create(t, p, "w-1")
	pids := readPids(t, filepath.Join(p.cfg.Dir, "w-1", "pids"))
	ctx, cancel := context.WithTimeout(t.Context(), killGrace/2)
	defer cancel()
	if err := p.Destroy(ctx, "w-1"); err != nil {
		t.Fatalf("Destroy = %v, want it done before half the %s grace", err, killGrace)
	}
	for _, pid := range pids {
		if live(pid) {
			t.Errorf("process %d is alive after Destroy", pid)
		}
	}
}
