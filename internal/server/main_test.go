package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/provider/kubernetes/kubetest"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// TestMain lets the test binary be a worker's agent: the process provider
// starts os.Args[0] with the agent's environment, as it starts
// `dynpool agent` in production.
func TestMain(m *testing.M) {
	runReplicaIfAsked()
	runHelperIfAsked()
	runStaticAgentIfAsked()
	if os.Getenv(agent.EnvToken) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := agent.RunFromEnv(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(kubetest.Main(m)) // m.Run, then stop the API server of the kubernetes tests
}

type testServer struct {
	*server.Server
	admin *client.Client
	dir   string
}

// startServer runs a real server (SQLite file, process provider) on a
// loopback port until the test ends.
func startServer(t *testing.T, mutate func(*server.Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{
		Listen: "127.0.0.1:0", DataDir: dir,
		AgentCommand:    []string{os.Args[0]},
		ReaperPeriod:    100 * time.Millisecond,
		ReconcilePeriod: 200 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if cfg.DatabaseURL != "" && cfg.SecretKey == "" {
		cfg.SecretKey = testSecretKey // required on PostgreSQL
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-errc; err != nil {
			t.Errorf("server run: %v", err)
		}
		killWorkers(t, dir)
	})
	return &testServer{Server: srv, admin: clientOf(srv, srv.AdminToken()), dir: dir}
}

// testWriter sends the server log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// tenant creates a tenant with a default pool "Linux" on Ubuntu (default)
// and returns its client.
func (s *testServer) tenant(t *testing.T, name string) *client.Client {
	t.Helper()
	tn, err := s.admin.CreateTenant(t.Context(), name)
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := clientFor(s, tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"}); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	return c
}

// runTask submits steps and follows the task to its end.
func runTask(t *testing.T, c *client.Client, steps ...api.StepRequest) (*api.Task, []api.LogLine) {
	t.Helper()
	task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Name: t.Name(), Steps: steps})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var lines []api.LogLine
	task, err = c.FollowLog(ctx, task.ID, func(l api.LogLine) { lines = append(lines, l) })
	if err != nil {
		t.Fatalf("follow log: %v", err)
	}
	return task, lines
}

func logHas(lines []api.LogLine, level, text string) bool {
	for _, l := range lines {
		if (level == "" || l.Level == level) && strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}

// workerPIDs returns the processes of a worker (its agent and scripts),
// found by the DYNPOOL_WORKER_ID in their environment.
func workerPIDs(workerID string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
			continue // a zombie is gone, only not yet reaped
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == "DYNPOOL_WORKER_ID="+workerID {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// killWorkers ends any worker process a test left, so no test leaks
// processes into the next.
func killWorkers(t *testing.T, dir string) {
	inst, err := os.ReadFile(filepath.Join(dir, "installation"))
	if err != nil {
		return
	}
	killWorkersOfInstallation(t, strings.TrimSpace(string(inst)))
}

func killWorkersOfInstallation(t *testing.T, installation string) {
	for _, pid := range processesOfInstallation(installation) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Logf("kill leftover worker process %d: %v", pid, err)
		}
	}
}

// processesOfInstallation returns the live processes whose environment
// names the installation: worker agents and their scripts.
func processesOfInstallation(installation string) []int {
	want := "DYNPOOL_INSTALLATION=" + installation + "\x00"
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
			continue
		}
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if strings.Contains(string(env), want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func clientFor(s *testServer, key string) *client.Client { return clientOf(s.Server, key) }

// clientOf returns a client of srv acting with key that trusts srv's
// certificate when it serves HTTPS.
func clientOf(srv *server.Server, key string) *client.Client {
	return client.New(srv.URL(), key, client.WithHTTPClient(tlspin.Client(srv.Fingerprint())))
}
