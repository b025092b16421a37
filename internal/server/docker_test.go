package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/docker"
	"github.com/dynpool/dynpool/internal/server"
)

// dockerCatalog offers one linux image made of the busybox test image
// that .ci/docker-images.sh builds, and the tools image as the worker-tools
// image new workers cache.
const dockerCatalog = `images:
  - id: busybox
    name: BusyBox
    os: linux
    family: busybox
    builds:
      - {version: "1", released: 2026-01-01, artifacts: {docker: "dynpool-test/worker:busybox"}}
worker_tools:
  linux: {image: dynpool-test/tools, tags: ["1"], cache: 1}
`

// staticDynpool builds the static dynpool binary the worker containers run
// as their agent, once per test run.
var staticDynpool = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dynpool-server-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dynpool")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dynpool/dynpool/cmd/dynpool")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{err: err, out: string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "build dynpool: " + e.err.Error() + "\n" + e.out }

// needDocker skips unless an engine answers and has the test image.
func needDocker(t *testing.T) string {
	t.Helper()
	if err := exec.Command("docker", "image", "inspect", "dynpool-test/worker:busybox").Run(); err != nil {
		t.Skip("skipping: no docker engine with the image dynpool-test/worker:busybox (build it with `bash .ci/docker-images.sh`)")
	}
	bin, err := staticDynpool()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestTaskRunsInWorkerContainers(t *testing.T) {
	t.Parallel()
	bin := needDocker(t)
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte(dockerCatalog), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(path)
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	// The agents in the containers reach the server through the bridge's
	// gateway, so it listens beyond loopback (see the docker package doc).
	s := startServer(t, func(c *server.Config) {
		c.Listen, c.Provider, c.Catalog, c.IdleTimeout = "0.0.0.0:0", "docker", cat, time.Second
		c.Docker = docker.Config{AgentBinary: bin}
	})
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := clientFor(s, tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Box", Image: "busybox"}); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	task, lines := runTask(t, c,
		api.StepRequest{Name: "inside", Syntax: api.SyntaxSh, Script: `echo "in a container: $(hostname)"; test -x /dynpool/dynpool`},
		containerStep,
	)
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	for _, want := range []string{
		"in a container: ",
		"Execution container image " + toolsImage + " was cached on worker", // by the worker's creation
		toolsImage, // cat /etc/dynpool-tools: the script ran in the image
		"step: in a container",
		"wrote in /work/job-", // the worker's work volume
	} {
		if !logHas(lines, api.LevelInfo, want) {
			t.Errorf("log has no info line with %q:\n%s", want, dump(lines))
		}
	}
	// An image no registry has fails its step with the engine's message.
	missing := containerStep
	missing.Container = &api.Container{Image: "dynpool-test/absent:never"}
	failed, flines := runTask(t, c, missing)
	if failed.State != api.StateFailed || !strings.Contains(failed.Steps[0].Error, `execution container: pull image "dynpool-test/absent:never": `) {
		t.Errorf("task with a missing image = %s, step error %q; want failed with the pull error; log:\n%s", failed.State, failed.Steps[0].Error, dump(flines))
	}
	wid := task.Steps[0].WorkerID
	workers, err := c.ListWorkers(t.Context(), false)
	if err != nil || len(workers) != 1 || workers[0].Provider != "docker" {
		t.Fatalf("workers = %+v, %v; want one docker worker", workers, err)
	}
	eventually.Holds(t, "the idle container worker to be destroyed", 30*time.Second, func() bool {
		return workerByID(t, c, wid).State == api.WorkerDestroyed
	})
	probe, err := docker.New(context.Background(), docker.Config{Installation: installationOfDir(t, s.dir), AgentBinary: bin})
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	defer probe.Close()
	left, err := probe.List(t.Context())
	if err != nil || len(left) != 0 {
		t.Fatalf("containers left after the worker was destroyed: %+v, %v", left, err)
	}
}

func installationOfDir(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "installation"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:len(b)-1])
}

// A server killed with its workers running leaves their containers; the
// next start removes the ones the store does not know as live, running or
// exited.
func TestContainersLeftBehindAreRemovedAtStart(t *testing.T) {
	t.Parallel()
	needDocker(t)
	dir := t.TempDir()
	sleeper := filepath.Join(dir, "sleeper")
	if err := os.WriteFile(sleeper, []byte("#!/bin/sh\nexec sleep 300\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	exiter := filepath.Join(dir, "exiter")
	if err := os.WriteFile(exiter, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The installation id the server will take is the data directory's.
	data := t.TempDir()
	const inst = "inst-left-behind"
	if err := os.WriteFile(filepath.Join(data, "installation"), []byte(inst+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct{ id, agent string }{{"wrk-running", sleeper}, {"wrk-exited", exiter}} {
		p, err := docker.New(t.Context(), docker.Config{Installation: inst, AgentBinary: w.agent})
		if err != nil {
			t.Fatalf("docker: %v", err)
		}
		defer p.Close()
		_, err = p.Create(t.Context(), &provider.CreateParams{
			WorkerID: w.id, TenantID: "ten-gone", OS: "linux", Artifact: "dynpool-test/worker:busybox",
			ServerURL: "http://127.0.0.1:1", RegistrationToken: "t",
		})
		if err != nil {
			t.Fatalf("leave a container behind: %v", err)
		}
	}
	probe, err := docker.New(t.Context(), docker.Config{Installation: inst, AgentBinary: sleeper})
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	defer probe.Close()
	if left, err := probe.List(t.Context()); err != nil || len(left) != 2 {
		t.Fatalf("containers before the start = %d, %v; want the 2 left behind", len(left), err)
	}
	startServer(t, func(c *server.Config) {
		c.DataDir, c.Listen, c.Provider = data, "0.0.0.0:0", "docker"
		c.Docker = docker.Config{AgentBinary: sleeper}
	})
	eventually.Holds(t, "the containers left behind to be removed", 30*time.Second, func() bool {
		left, err := probe.List(t.Context())
		return err == nil && len(left) == 0
	})
}
