package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
)

// replicaEnv carries a replica's settings to the test binary started as
// a server process (see runReplicaIfAsked).
const replicaEnv = "DYNPOOL_TEST_REPLICA"

type replicaSettings struct {
	Listen, DataDir, DatabaseURL, AdvertiseURL, AdminToken string
	IdleTimeout, TaskLeasePeriod                           time.Duration
	// InheritListener serves the socket passed as file descriptor 3
	// instead of listening on Listen: a parent that restarts the server
	// keeps its port across the restarts.
	InheritListener bool
}

// runReplicaIfAsked runs this test binary as one dynpool server, until
// SIGTERM or SIGKILL, when replicaEnv says so. TestMain calls it.
func runReplicaIfAsked() {
	raw := os.Getenv(replicaEnv)
	if raw == "" {
		return
	}
	var rs replicaSettings
	if err := json.Unmarshal([]byte(raw), &rs); err != nil {
		fmt.Fprintln(os.Stderr, "replica settings:", err)
		os.Exit(2)
	}
	os.Unsetenv(replicaEnv) // the agents it starts are agents, not replicas
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var ln net.Listener
	if rs.InheritListener {
		var err error
		if ln, err = net.FileListener(os.NewFile(3, "listener")); err != nil {
			fmt.Fprintln(os.Stderr, "inherited listener:", err)
			os.Exit(2)
		}
	}
	srv, err := server.New(ctx, server.Config{
		Listener: ln, Listen: rs.Listen, DataDir: rs.DataDir, DatabaseURL: rs.DatabaseURL, AdvertiseURL: rs.AdvertiseURL,
		AdminToken: rs.AdminToken, AgentCommand: []string{os.Args[0]}, SecretKey: testSecretKey,
		IdleTimeout: rs.IdleTimeout, TaskLeasePeriod: rs.TaskLeasePeriod,
		ReaperPeriod: 200 * time.Millisecond, ReconcilePeriod: 500 * time.Millisecond, LeaderPeriod: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err == nil {
		err = srv.Run(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// balancer spreads requests over live backends and skips dead ones, as a
// load balancer in front of replicas does. Only requests whose connection
// failed are retried (their body was never sent).
type balancer struct {
	backends []*url.URL
	next     atomic.Uint64
}

func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	var last error
	for range b.backends {
		u := b.backends[b.next.Add(1)%uint64(len(b.backends))]
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
		resp, err := http.DefaultTransport.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			last = err
			continue
		}
		return resp, err
	}
	return nil, last
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestThreeReplicasLoseOneMidRun runs three server processes on one
// PostgreSQL database behind a balancer, submits tasks of several tenants,
// kills one replica with SIGKILL while they run, and checks that every
// task ends, no worker served two tenants, and no worker is left behind.
func TestThreeReplicasLoseOneMidRun(t *testing.T) {
	t.Parallel()
	dbURL := postgresURL(t)
	lb := &balancer{}
	front := &http.Server{Handler: &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.Out.URL.Scheme, r.Out.URL.Host = "http", "replicas" },
		Transport:     lb,
		FlushInterval: -1, // log follow is a stream
	}}
	frontLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve(frontLn)
	defer front.Close()
	frontURL := "http://" + frontLn.Addr().String()

	const adminToken = "dpa_replicas-test"
	var replicas []*exec.Cmd
	for i := range 3 {
		addr := freePort(t)
		lb.backends = append(lb.backends, &url.URL{Scheme: "http", Host: addr})
		dir := t.TempDir()
		settings, _ := json.Marshal(replicaSettings{
			Listen: addr, DataDir: dir, DatabaseURL: dbURL, AdvertiseURL: frontURL, AdminToken: adminToken,
			IdleTimeout: 2 * time.Second, TaskLeasePeriod: 3 * time.Second,
		})
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), replicaEnv+"="+string(settings))
		cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start replica %d: %v", i, err)
		}
		replicas = append(replicas, cmd)
	}
	var installation string
	t.Cleanup(func() {
		for _, r := range replicas {
			_ = r.Process.Signal(syscall.SIGTERM)
			_ = r.Wait()
		}
		if installation != "" {
			killWorkersOfInstallation(t, installation)
		}
	})

	admin := client.New(frontURL, adminToken)
	eventually.Holds(t, "every replica to answer", 30*time.Second, func() bool {
		for _, b := range lb.backends {
			resp, err := http.Get(b.String() + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return false
			}
		}
		return true
	})
	installation = installationOf(t, dbURL)
	const tenants, tasksPerTenant = 3, 25
	var clients []*client.Client
	var taskIDs []string
	for i := range tenants {
		tn, err := admin.CreateTenant(t.Context(), fmt.Sprintf("tenant-%d", i))
		if err != nil {
			t.Fatalf("create tenant: %v", err)
		}
		four := 4
		if _, err := admin.UpdateTenant(t.Context(), tn.ID, api.UpdateTenantRequest{MaxWorkers: &four}); err != nil {
			t.Fatalf("limit tenant: %v", err)
		}
		c := client.New(frontURL, tn.APIKey)
		if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"}); err != nil {
			t.Fatalf("create pool: %v", err)
		}
		clients = append(clients, c)
	}
	for j := range tasksPerTenant {
		for i, c := range clients {
			task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Name: fmt.Sprintf("t%d-%d", i, j), Steps: []api.StepRequest{
				{Name: "one", Script: "echo one; sleep 1"},
				{Name: "two", Script: "echo two"},
				{Name: "three", Syntax: api.SyntaxSh, Script: "echo three"},
			}})
			if err != nil {
				t.Fatalf("create task: %v", err)
			}
			taskIDs = append(taskIDs, fmt.Sprintf("%d/%s", i, task.ID))
		}
	}
	// Kill a replica once work is under way.
	eventually.Holds(t, "the first tasks to finish", 60*time.Second, func() bool {
		return countEnded(t, clients, taskIDs) >= 3
	})
	if err := replicas[0].Process.Kill(); err != nil {
		t.Fatalf("kill replica: %v", err)
	}
	_ = replicas[0].Wait()
	t.Logf("killed replica 0 with %d of %d tasks ended", countEnded(t, clients, taskIDs), len(taskIDs))

	eventually.Holds(t, "every task to end", 3*time.Minute, func() bool {
		return countEnded(t, clients, taskIDs) == len(taskIDs)
	})
	failed := 0
	workerTenant := map[string]int{}
	for _, ref := range taskIDs {
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
				t.Fatalf("worker %s ran steps of tenants %d and %d", st.WorkerID, owner, i)
			}
			workerTenant[st.WorkerID] = i
		}
	}
	if checked := checkNoWorkerServedTwoStepsAtOnce(t, clients, taskIDs); checked < 2*len(taskIDs) {
		t.Fatalf("only %d of %d steps' holds found in the logs; the check would prove little", checked, 3*len(taskIDs))
	}
	t.Logf("%d tasks of %d steps: %d succeeded, %d failed with a reason; %d workers used",
		len(taskIDs), 3, len(taskIDs)-failed, failed, len(workerTenant))
	if failed > len(taskIDs)/10 {
		t.Errorf("%d of %d tasks failed; a lost replica should cost little more than the steps it was running", failed, len(taskIDs))
	}
	// Nothing is left behind: idle workers go after the idle timeout, and
	// their processes with them, whichever replica made them.
	eventually.Holds(t, "every worker to be destroyed", 60*time.Second, func() bool {
		ws, err := admin.AdminListWorkers(t.Context())
		return err == nil && len(ws) == 0
	})
	if n := len(processesOfInstallation(installation)); n != 0 {
		t.Fatalf("%d worker processes remain after every worker was destroyed", n)
	}
}

func countEnded(t *testing.T, clients []*client.Client, refs []string) int {
	t.Helper()
	n := 0
	for _, ref := range refs {
		var i int
		var id string
		fmt.Sscanf(ref, "%d/%s", &i, &id)
		task, err := clients[i].GetTask(t.Context(), id)
		if err == nil && task.FinishedAt != nil {
			n++
		}
	}
	return n
}

// installationOf reads the installation id the replicas share.
func installationOf(t *testing.T, dbURL string) string {
	t.Helper()
	st, err := postgresStore(t, dbURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	id, err := st.InstallationID(t.Context(), "unused")
	if err != nil {
		t.Fatalf("installation id: %v", err)
	}
	return strings.TrimSpace(id)
}

// checkNoWorkerServedTwoStepsAtOnce reads every task log: from the line
// that says a step leased a worker to the line that says the step ended on
// it, no other step may hold that worker. It returns how many holds it
// checked.
func checkNoWorkerServedTwoStepsAtOnce(t *testing.T, clients []*client.Client, refs []string) int {
	t.Helper()
	type hold struct {
		from, to time.Time
		step     string
	}
	holds := map[string][]hold{}
	for _, ref := range refs {
		var i int
		var id string
		fmt.Sscanf(ref, "%d/%s", &i, &id)
		lines, err := clients[i].TaskLog(t.Context(), id)
		if err != nil {
			t.Fatalf("task log: %v", err)
		}
		leased := map[string]time.Time{} // step → when it leased its worker
		for _, l := range lines {
			if strings.HasPrefix(l.Message, "Leased worker ") {
				leased[l.Step] = l.Time
				continue
			}
			_, rest, ok := strings.Cut(l.Message, " on worker ")
			if !ok || !strings.HasPrefix(l.Message, "Step ") {
				continue
			}
			worker, _, _ := strings.Cut(rest, ":")
			from, ok := leased[l.Step]
			if !ok {
				continue // leased before a takeover wrote no line here
			}
			holds[worker] = append(holds[worker], hold{from, l.Time, id + "/" + l.Step})
		}
	}
	checked := 0
	for w, hs := range holds {
		checked += len(hs)
		slices.SortFunc(hs, func(a, b hold) int { return a.from.Compare(b.from) })
		for k := 1; k < len(hs); k++ {
			if hs[k].from.Before(hs[k-1].to) {
				t.Fatalf("worker %s held by %s (%s to %s) and %s (from %s) at once", w,
					hs[k-1].step, hs[k-1].from, hs[k-1].to, hs[k].step, hs[k].from)
			}
		}
	}
	return checked
}
