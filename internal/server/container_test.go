package server_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
)

// toolsImage is the execution-container image .ci/docker-images.sh builds:
// the busybox worker image plus /etc/dynpool-tools holding its own name.
const toolsImage = "dynpool-test/tools:1"

// needToolsImage skips unless a docker engine answers and has toolsImage.
func needToolsImage(t *testing.T) {
	t.Helper()
	if err := exec.Command("docker", "image", "inspect", toolsImage).Run(); err != nil {
		t.Skip("skipping: no docker engine with the image " + toolsImage + " (build it with `bash .ci/docker-images.sh`)")
	}
}

// containerStep runs in toolsImage and shows where it ran: the image's
// marker file, the step's variables, and a file written in its directory.
var containerStep = api.StepRequest{
	Name: "in a container", Syntax: api.SyntaxSh, Container: &api.Container{Image: toolsImage},
	Script: "cat /etc/dynpool-tools\necho \"step: $DYNPOOL_STEP_NAME\"\necho made > made.txt && test -s made.txt && echo wrote in $(pwd)\n",
}

func TestExecutionContainerOnAProcessWorker(t *testing.T) {
	t.Parallel()
	needToolsImage(t)
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c,
		api.StepRequest{Name: "on the worker", Script: "test ! -e /etc/dynpool-tools && echo no marker here"},
		containerStep,
	)
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	for _, want := range []string{
		"no marker here",
		"Execution container image " + toolsImage + " was cached on worker",
		toolsImage, // cat /etc/dynpool-tools: the script ran in the image
		"step: in a container",
		"wrote in " + filepath.Join(s.dir, "workers"),
	} {
		if !logHas(lines, api.LevelInfo, want) {
			t.Errorf("log has no info line with %q:\n%s", want, dump(lines))
		}
	}
}

func TestExecutionContainerWithoutAnEngineFailsTheStep(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) {
		c.Docker.Host = "unix://" + filepath.Join(t.TempDir(), "no-engine.sock")
	})
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c, containerStep)
	if task.State != api.StateFailed {
		t.Fatalf("task = %s, want failed; log:\n%s", task.State, dump(lines))
	}
	const want = "execution containers of process workers run on this server's local Docker engine: new docker provider: the docker engine at unix://"
	if got := task.Steps[0].Error; !strings.Contains(got, want) {
		t.Errorf("step error = %q, want it to contain %q", got, want)
	}
}

// A server stopped gracefully while an execution container runs leaves it
// running; the agent asks the next server, which follows the container:
// the script runs once and the step ends with it.
func TestExecutionContainerOutlivesAGracefulRestart(t *testing.T) {
	t.Parallel()
	needToolsImage(t)
	start := restartable(t, t.TempDir(), freePort(t))
	srv, stop := start()
	admin := client.New(srv.URL(), srv.AdminToken())
	tn, err := admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := client.New(srv.URL(), tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"}); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{{
		Name: "long", Syntax: api.SyntaxSh, Container: &api.Container{Image: toolsImage},
		Script: "echo started; sleep 4; echo finished",
	}}})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	eventually.Holds(t, "the script to start", 30*time.Second, func() bool {
		lines, _ := c.TaskLog(t.Context(), task.ID)
		return logHas(lines, api.LevelInfo, "started")
	})
	stop()
	_, stop = start()
	defer stop()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var lines []api.LogLine
	got, err := c.FollowLog(ctx, task.ID, func(l api.LogLine) { lines = append(lines, l) })
	if err != nil {
		t.Fatalf("follow log: %v", err)
	}
	started := 0
	for _, l := range lines {
		if l.Message == "started" {
			started++
		}
	}
	if got.State != api.StateSuccess || started != 1 {
		t.Fatalf("task %s (%s) with %d starts of the script, want success with 1; log:\n%s", got.State, got.Error, started, dump(lines))
	}
}
