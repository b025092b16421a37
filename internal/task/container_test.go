package task_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/validation"
)

// stubHost stands in for the Docker engine, which the server's tests use
// for real (internal/server/container_test.go): it reports the image as
// cached, prints lines and ends with code or err.
type stubHost struct {
	lines []api.AgentLogLine
	code  int
	err   error
	got   chan *task.ContainerSpec
}

func (s *stubHost) RunContainer(_ context.Context, _ *store.Worker, spec *task.ContainerSpec, image func(bool, time.Duration), line func(string, string)) (int, error) {
	s.got <- spec
	if s.err != nil {
		return -1, s.err
	}
	image(true, 3*time.Millisecond)
	for _, l := range s.lines {
		line(l.Stream, l.Message)
	}
	return s.code, nil
}

// containerHarness runs one step with an execution container up to the
// point where its agent has taken the job.
func containerHarness(t *testing.T, host *stubHost) (*harness, *store.Task, *store.Worker, *api.Job) {
	t.Helper()
	h := newHarnessWith(t, func(c *task.Config) { c.Containers = host })
	tk, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{Steps: []api.StepRequest{
		{Name: "build", Script: "make", Container: &api.Container{Image: "golang:1.26"}},
	}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	job := h.job(w)
	if job.Container == nil || job.Container.Image != "golang:1.26" {
		t.Fatalf("job container = %+v, want golang:1.26", job.Container)
	}
	return h, tk, w, job
}

func TestContainerOutputGoesToTheTaskLog(t *testing.T) {
	t.Parallel()
	host := &stubHost{code: 3, got: make(chan *task.ContainerSpec, 1), lines: []api.AgentLogLine{
		{Stream: api.StreamStdout, Message: "compiling"}, {Stream: api.StreamStderr, Message: "warning: x"},
	}}
	h, tk, w, job := containerHarness(t, host)
	req := &api.ContainerRunRequest{Dir: "/work/job-1", Command: []string{"bash", "/work/job-1/script.sh"}, Env: map[string]string{"A": "1"}}
	resp, err := h.runner.RunContainer(t.Context(), w, job.ID, req, nil)
	if err != nil || resp.ExitCode != 3 || resp.Error != "" {
		t.Fatalf("RunContainer = %+v, %v; want exit code 3", resp, err)
	}
	spec := <-host.got
	if spec.Image != "golang:1.26" || spec.Dir != req.Dir || spec.JobID != job.ID || spec.Env["A"] != "1" {
		t.Errorf("spec = %+v, want the step's image and the agent's directory", spec)
	}
	lines, err := h.store.LogList(t.Context(), tk.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"compiling":  api.LevelInfo,
		"warning: x": api.LevelWarning,
		"Execution container image golang:1.26 was cached on worker " + w.ID + " (found in 3ms)": api.LevelInfo,
	}
	for _, l := range lines {
		if level, ok := want[l.Message]; ok && level == l.Level && l.Step == "build" {
			delete(want, l.Message)
		}
	}
	if len(want) > 0 {
		t.Errorf("log lacks %v:\n%s", want, logOf(t, h.store, tk.ID))
	}
}

func TestContainerThatCannotRunAnswersTheReason(t *testing.T) {
	t.Parallel()
	host := &stubHost{err: errors.New(`execution container: pull image "golang:1.26": denied`), got: make(chan *task.ContainerSpec, 1)}
	h, _, w, job := containerHarness(t, host)
	resp, err := h.runner.RunContainer(t.Context(), w, job.ID, &api.ContainerRunRequest{Dir: "/work/j", Command: []string{"sh", "/work/j/s"}}, nil)
	if err != nil || resp.ExitCode != -1 || resp.Error != host.err.Error() {
		t.Fatalf("RunContainer = %+v, %v; want -1 and the host's reason", resp, err)
	}
}

func TestContainerRequestsThatAreRefused(t *testing.T) {
	t.Parallel()
	host := &stubHost{got: make(chan *task.ContainerSpec, 1)}
	h, _, w, job := containerHarness(t, host)
	good := api.ContainerRunRequest{Dir: "/work/j", Command: []string{"sh", "/work/j/s"}}
	other := &store.Worker{ID: "w-other", TenantID: h.tenant.ID}
	if _, err := h.runner.RunContainer(t.Context(), other, job.ID, &good, nil); !errors.Is(err, task.ErrJobNotFound) {
		t.Errorf("another worker's run = %v, want ErrJobNotFound", err)
	}
	for name, req := range map[string]api.ContainerRunRequest{
		"relative dir": {Dir: "work/j", Command: good.Command},
		"unclean dir":  {Dir: "/work/../etc", Command: good.Command},
		"no command":   {Dir: good.Dir},
	} {
		var verr *validation.Error
		if _, err := h.runner.RunContainer(t.Context(), w, job.ID, &req, nil); !errors.As(err, &verr) {
			t.Errorf("%s: RunContainer = %v, want a validation error", name, err)
		}
	}
	if len(host.got) != 0 {
		t.Error("a refused request reached the container host")
	}
}

func TestStepWithoutAContainerHasNoContainerToRun(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(c *task.Config) { c.Containers = &stubHost{got: make(chan *task.ContainerSpec, 1)} })
	tk := h.submit("echo hi")
	w := h.register()
	h.waitTask(tk.ID, "the step to lease the worker", leased(w))
	job := h.job(w)
	_, err := h.runner.RunContainer(t.Context(), w, job.ID, &api.ContainerRunRequest{Dir: "/w", Command: []string{"sh"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "has no execution container") {
		t.Errorf("RunContainer of a plain step = %v, want it refused", err)
	}
}

func TestContainerStepsAreRefusedWithoutAHost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{Steps: []api.StepRequest{
		{Script: "make", Container: &api.Container{Image: "golang:1.26"}},
	}})
	var verr *validation.Error
	if !errors.As(err, &verr) || verr.Field != "steps[0].container" || !strings.Contains(err.Error(), "not available on this server") {
		t.Errorf("submit = %v, want a validation error on steps[0].container", err)
	}
}
