package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/eventually"
)

// chaosSeed fixes the kill moments of TestServerKilledAgainAndAgain; set
// DYNPOOL_TEST_CHAOS_SEED to try others.
const chaosSeed = 20261130

// TestServerKilledAgainAndAgainLosesNothing runs one server process on a
// SQLite file with the process provider, submits tasks of three tenants,
// and kills the server with SIGKILL four times at seeded random moments,
// starting it again each time on the same data directory. Then every task
// must end (with a reason when it did not succeed), no step may have run
// twice, no worker may have run steps of two tenants, and the worker
// processes alive must be exactly those of the workers the store calls
// live.
func TestServerKilledAgainAndAgainLosesNothing(t *testing.T) {
	t.Parallel()
	seed := uint64(chaosSeed)
	if s := os.Getenv("DYNPOOL_TEST_CHAOS_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	// The test holds the socket and hands it to each server it starts, so
	// the port stays the test's across the kills.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	dir, base := t.TempDir(), "http://"+ln.Addr().String()
	const adminToken = "dpa_chaos-test"
	// A task lease far longer than the test: a restarted server must
	// resume its predecessor's tasks at once, not when their leases end.
	settings, _ := json.Marshal(replicaSettings{DataDir: dir, AdminToken: adminToken, IdleTimeout: 2 * time.Second,
		TaskLeasePeriod: time.Hour, InheritListener: true})
	var srv *exec.Cmd
	start := func() {
		t.Helper()
		srv = exec.Command(os.Args[0])
		srv.ExtraFiles = []*os.File{sock}
		srv.Env = append(os.Environ(), replicaEnv+"="+string(settings))
		srv.Stdout, srv.Stderr = testWriter{t}, testWriter{t}
		if err := srv.Start(); err != nil {
			t.Fatalf("start server: %v", err)
		}
		eventually.Holds(t, "the server to answer", 30*time.Second, func() bool {
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	start()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
		killWorkers(t, dir)
	})

	admin := client.New(base, adminToken)
	var clients []*client.Client
	var refs []string
	for i := range 3 {
		tn, err := admin.CreateTenant(t.Context(), fmt.Sprintf("tenant-%d", i))
		if err != nil {
			t.Fatalf("create tenant: %v", err)
		}
		three := 3
		if _, err := admin.UpdateTenant(t.Context(), tn.ID, api.UpdateTenantRequest{MaxWorkers: &three}); err != nil {
			t.Fatalf("limit tenant: %v", err)
		}
		c := client.New(base, tn.APIKey)
		if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"}); err != nil {
			t.Fatalf("create pool: %v", err)
		}
		clients = append(clients, c)
	}
	for j := range 8 {
		for i, c := range clients {
			task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Name: fmt.Sprintf("t%d-%d", i, j), Steps: []api.StepRequest{
				{Name: "one", Script: fmt.Sprintf("echo ran t%d-%d/one; sleep 1", i, j)},
				{Name: "two", Script: fmt.Sprintf("echo ran t%d-%d/two", i, j)},
			}})
			if err != nil {
				t.Fatalf("create task: %v", err)
			}
			refs = append(refs, fmt.Sprintf("%d/%s", i, task.ID))
		}
	}
	for kill := range 4 {
		// Choosing the moment of the kill, not waiting for anything.
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		if err := srv.Process.Kill(); err != nil {
			t.Fatalf("kill server: %v", err)
		}
		_ = srv.Wait()
		start()
		t.Logf("killed and started again (%d): %d of %d tasks ended so far", kill+1, countEnded(t, clients, refs), len(refs))
	}

	eventually.Holds(t, "every task to end", 3*time.Minute, func() bool {
		return countEnded(t, clients, refs) == len(refs)
	})
	workerTenant := map[string]int{}
	failed := 0
	for _, ref := range refs {
		var i int
		var id string
		fmt.Sscanf(ref, "%d/%s", &i, &id)
		task, err := clients[i].GetTask(t.Context(), id)
		if err != nil {
			t.Fatalf("get task: %v", err)
		}
		if task.State != api.StateSuccess {
			failed++
			t.Logf("task %s ended %s: %s", id, task.State, task.Error)
			if task.Error == "" {
				t.Errorf("task %s ended %s without a reason", id, task.State)
			}
		}
		for _, st := range task.Steps {
			if st.WorkerID == "" {
				continue
			}
			if owner, ok := workerTenant[st.WorkerID]; ok && owner != i {
				t.Errorf("worker %s ran steps of tenants %d and %d", st.WorkerID, owner, i)
			}
			workerTenant[st.WorkerID] = i
		}
		lines, err := clients[i].TaskLog(t.Context(), id)
		if err != nil {
			t.Fatalf("task log: %v", err)
		}
		ran := map[string]int{}
		for _, l := range lines {
			if strings.HasPrefix(l.Message, "ran ") {
				ran[l.Message]++
			}
		}
		for _, st := range task.Steps {
			line := fmt.Sprintf("ran %s/%s", task.Name, st.Name)
			switch n := ran[line]; {
			case n > 1:
				t.Errorf("task %s: %q printed %d times: a step ran again", id, line, n)
			case n == 0 && st.State == api.StateSuccess:
				t.Errorf("task %s: step %s succeeded without printing %q", id, st.Name, line)
			}
		}
	}
	t.Logf("%d tasks: %d succeeded, %d failed with a reason; %d workers used", len(refs), len(refs)-failed, failed, len(workerTenant))
	if checked := checkNoWorkerServedTwoStepsAtOnce(t, clients, refs); checked == 0 {
		t.Error("no step's hold of a worker found in the logs")
	}

	// The processes alive are exactly those of the live workers.
	installation, err := os.ReadFile(filepath.Join(dir, "installation"))
	if err != nil {
		t.Fatal(err)
	}
	var why string
	eventually.Holds(t, "worker processes to match the live workers", 60*time.Second, func() bool {
		ws, err := admin.AdminListWorkers(t.Context())
		if err != nil {
			why = err.Error()
			return false
		}
		live := map[string]bool{}
		for _, w := range ws {
			switch w.State {
			case api.WorkerIdle, api.WorkerBusy:
				live[w.ID] = true
				if len(workerPIDs(w.ID)) == 0 {
					why = fmt.Sprintf("worker %s is %s but has no process", w.ID, w.State)
					return false
				}
			case api.WorkerProvisioning, api.WorkerDraining, api.WorkerDestroying:
				why = fmt.Sprintf("worker %s is still %s", w.ID, w.State)
				return false
			}
		}
		for _, pid := range processesOfInstallation(strings.TrimSpace(string(installation))) {
			if w := workerOfPID(pid); !live[w] {
				why = fmt.Sprintf("process %d of worker %q runs, but the store does not call that worker live", pid, w)
				return false
			}
		}
		return true
	})
	if t.Failed() {
		t.Log(why)
	}
}

// workerOfPID returns the DYNPOOL_WORKER_ID in process pid's environment.
func workerOfPID(pid int) string {
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "DYNPOOL_WORKER_ID="); ok {
			return v
		}
	}
	return ""
}
