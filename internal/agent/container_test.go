package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// containerJob is a job with an execution container.
func containerJob(id, syntax string) *api.Job {
	return &api.Job{
		ID: id, TaskID: "task-1", Step: "Build", Syntax: syntax, Script: "echo in a container\n",
		Env: map[string]string{"DYNPOOL_TOOL_X": "/opt/x"}, Container: &api.Container{Image: "tools:1"},
	}
}

func TestContainerJobAsksTheServerToRunIt(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.containerAnswer = api.ContainerRunResponse{ExitCode: 5}
	workDir := t.TempDir()
	startAgentWith(t, srv.URL, func(c *Config) { c.WorkDir = workDir })
	req := runJob(t, f, containerJob("job-1", api.SyntaxBash))
	if req.ExitCode != 5 || req.Error != "" {
		t.Errorf("completion = %+v, want the container's exit code 5", req)
	}
	f.mu.Lock()
	runs := f.containers["job-1"]
	f.mu.Unlock()
	if len(runs) != 1 {
		t.Fatalf("container runs = %d, want 1", len(runs))
	}
	run := runs[0]
	if filepath.Dir(run.req.Dir) != workDir || !strings.HasPrefix(filepath.Base(run.req.Dir), "job-") {
		t.Errorf("dir = %q, want a job directory in the work dir %s", run.req.Dir, workDir)
	}
	if want := []string{"bash", filepath.Join(run.req.Dir, "script.sh")}; !slices.Equal(run.req.Command, want) {
		t.Errorf("command = %q, want %q (the interpreter is the image's)", run.req.Command, want)
	}
	// The helper that sets output variables comes first, on the
	// script's own first line.
	if !strings.HasPrefix(run.script, "set_dynpool_variable() {") || !strings.HasSuffix(run.script, "}; echo in a container\n") {
		t.Errorf("script in the job directory when the container was asked for = %q", run.script)
	}
	if run.mode != 0o777 {
		t.Errorf("job directory mode = %v, want 0777 (the container's user may not be the agent's)", run.mode)
	}
	for k, v := range map[string]string{EnvStepName: "Build", EnvTaskID: "task-1", EnvWorkerID: fakeWorkerID, "DYNPOOL_TOOL_X": "/opt/x"} {
		if run.req.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, run.req.Env[k], v)
		}
	}
	if _, err := os.Stat(run.req.Dir); !os.IsNotExist(err) {
		t.Errorf("job directory after the job: %v, want it removed", err)
	}
}

func TestContainerJobThatCannotRunFailsWithTheServersReason(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.containerAnswer = api.ContainerRunResponse{ExitCode: -1, Error: `execution container: pull image "tools:1": not found`}
	startAgent(t, srv.URL)
	req := runJob(t, f, containerJob("job-1", api.SyntaxPython))
	if req.ExitCode != -1 || req.Error != f.containerAnswer.Error {
		t.Errorf("completion = %+v, want -1 and the server's reason", req)
	}
	f.mu.Lock()
	cmd := f.containers["job-1"][0].req.Command
	f.mu.Unlock()
	if len(cmd) != 3 || cmd[0] != "python3" || !strings.HasSuffix(cmd[1], "/dynpool_bootstrap.py") || !strings.HasSuffix(cmd[2], "/script.py") {
		t.Errorf("python command = %q, want python3, the helper bootstrap and the script", cmd)
	}
}

func TestContainerJobRetriesADroppedCall(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/container", dropConnection)
	startAgent(t, srv.URL)
	if req := runJob(t, f, containerJob("job-1", api.SyntaxSh)); req.ExitCode != 0 || req.Error != "" {
		t.Errorf("completion after a dropped call = %+v, want the retried call's exit code 0", req)
	}
}

func TestContainerJobWithUnknownSyntax(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	req := runJob(t, f, containerJob("job-1", "cobol"))
	if req.ExitCode != -1 || !strings.Contains(req.Error, `unknown script syntax "cobol"`) {
		t.Errorf("completion = %+v, want the unknown syntax named", req)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.containers["job-1"]) != 0 {
		t.Error("a container was asked for a script no interpreter runs")
	}
}
