package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

func ptr[T any](v T) *T { return &v }

// runAPI is a fake API for one run: the task is created queued and its log
// stream ends with end.
func runAPI(t *testing.T, end api.Task) *fakeAPI {
	t.Helper()
	at := time.Date(2026, 11, 29, 10, 4, 5, 0, time.Local)
	return newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks": jsonAnswer(201, `{"id":"k1","state":"queued"}`),
		"GET /api/v1/tasks/k1/log": sseAnswer([]api.LogLine{
			{Seq: 1, Time: at, Level: api.LevelInfo, Step: "run", Message: "hello"},
		}, end),
	})
}

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	failedStep := func(code int) api.Task {
		return api.Task{ID: "k1", State: api.StateFailed, Steps: []api.Step{
			{Name: "run", State: api.StateFailed, ExitCode: ptr(code)},
		}}
	}
	tests := []struct {
		name     string
		end      api.Task
		wantCode int
		wantErr  string
	}{
		{"success", api.Task{ID: "k1", State: api.StateSuccess}, 0, ""},
		{"step exit code", failedStep(3), 3, "task k1 failed: step run exited with 3"},
		{"exit code above 125", failedStep(127), 1, "task k1 failed: step run exited with 127"},
		{"failed without code", api.Task{ID: "k1", State: api.StateFailed, Steps: []api.Step{
			{Name: "run", State: api.StateFailed, Error: "image ubuntu-18.04 is decommissioned"},
		}}, 1, "task k1 failed: image ubuntu-18.04 is decommissioned"},
		{"canceled", api.Task{ID: "k1", State: api.StateCanceled}, 130, "task k1 canceled"},
		{"unknown state", api.Task{ID: "k1", State: "weird"}, 1, `ended in unexpected state "weird"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := runAPI(t, tt.end)
			code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "run", "--script", "echo hello")
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if want := "10:04:05 INFO    [run] hello\n"; out != want {
				t.Errorf("stdout = %q, want %q", out, want)
			}
			if !strings.HasPrefix(errOut, "task k1 queued\n") {
				t.Errorf("stderr = %q, want it to start with the task id", errOut)
			}
			if rest := strings.TrimPrefix(errOut, "task k1 queued\n"); !strings.Contains(rest, tt.wantErr) || (tt.wantErr == "" && rest != "") {
				t.Errorf("stderr after the task id = %q, want %q", rest, tt.wantErr)
			}
		})
	}
}

func TestRunSendsScript(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(file, []byte("echo from file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want api.StepRequest
	}{
		{"file", []string{"--file", file, "--pool", "linux", "--syntax", "sh"},
			api.StepRequest{Name: "run", Pool: "linux", Syntax: "sh", Script: "echo from file\n"}},
		{"args", []string{"--name", "greet", "--", "echo", "hi"},
			api.StepRequest{Name: "greet", Syntax: "bash", Script: "echo hi"}},
		{"script", []string{"--script", "exit 0"},
			api.StepRequest{Name: "run", Syntax: "bash", Script: "exit 0"}},
		{"requires", []string{"--require", "kubectl=1.22.6", "--require", "helm>=3", "--require", "docker", "--script", "helm version"},
			api.StepRequest{Name: "run", Syntax: "bash", Script: "helm version", Requires: []string{"kubectl=1.22.6", "helm>=3", "docker"}}},
		{"container", []string{"--container", "golang:1.26", "--script", "go version"},
			api.StepRequest{Name: "run", Syntax: "sh", Script: "go version", Container: &api.Container{Image: "golang:1.26"}}},
		{"variables", []string{"--var", "REGION=eu", "--var", "EMPTY=", "--sensitive-var", "TOKEN=s3cr=t", "--script", "env"},
			api.StepRequest{Name: "run", Syntax: "bash", Script: "env", Variables: []api.Variable{
				{Name: "REGION", Value: "eu"}, {Name: "EMPTY"}, {Name: "TOKEN", Value: "s3cr=t", Sensitive: true}}}},
		{"container with bash", []string{"--container", "golang:1.26", "--syntax", "bash", "--script", "go version"},
			api.StepRequest{Name: "run", Syntax: "bash", Script: "go version", Container: &api.Container{Image: "golang:1.26"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := runAPI(t, api.Task{ID: "k1", State: api.StateSuccess})
			code, _, errOut := runCLI(t.Context(), nil, append([]string{"--server", f.url, "run"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			c := f.called("POST /api/v1/tasks")
			if len(c) != 1 {
				t.Fatalf("%d task creations, want 1", len(c))
			}
			var req api.CreateTaskRequest
			if err := json.Unmarshal([]byte(c[0].body), &req); err != nil {
				t.Fatal(err)
			}
			if len(req.Steps) != 1 || !reflect.DeepEqual(req.Steps[0], tt.want) || req.Name != tt.want.Name {
				t.Errorf("request = %+v, want one step %+v", req, tt.want)
			}
		})
	}
}

func TestRunJSONPrintsOnlyTheTaskOnStdout(t *testing.T) {
	t.Parallel()
	f := runAPI(t, api.Task{ID: "k1", State: api.StateSuccess})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "-o", "json", "run", "--script", "echo hello")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var task api.Task
	if err := json.Unmarshal([]byte(out), &task); err != nil || task.ID != "k1" || task.State != api.StateSuccess {
		t.Errorf("stdout = %q (%v), want only the finished task as JSON", out, err)
	}
	if !strings.Contains(errOut, "[run] hello") {
		t.Errorf("stderr = %q, want the log as text", errOut)
	}
}

func TestRunReadsScriptFromStdin(t *testing.T) {
	t.Parallel()
	src, err := scriptSource(strings.NewReader("echo from stdin\n"), false, "", "-", nil)
	if err != nil || src != "echo from stdin\n" {
		t.Fatalf("script = %q, %v; want the standard input", src, err)
	}
}

func TestRunCreateFails(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks": jsonAnswer(400, `{"error":{"code":"invalid_argument","message":"no pool named \"gpu\"","field":"steps[0].pool"}}`),
	})
	code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "run", "--pool", "gpu", "--script", "x")
	if code != 1 || !strings.Contains(errOut, `invalid_argument: no pool named "gpu" (field steps[0].pool) (HTTP 400)`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestRunInterruptCancelsTask(t *testing.T) {
	t.Parallel()
	ctx, interrupt := context.WithCancel(t.Context())
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks": jsonAnswer(201, `{"id":"k1","state":"queued"}`),
		"GET /api/v1/tasks/k1/log": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "event: line\ndata: {\"seq\":1,\"message\":\"started\"}\n\n")
			w.(http.Flusher).Flush()
			interrupt() // the user presses Ctrl-C
			<-r.Context().Done()
		},
		"POST /api/v1/tasks/k1/cancel": jsonAnswer(200, `{"id":"k1","state":"canceled"}`),
	})
	code, _, errOut := runCLI(ctx, nil, "--server", f.url, "run", "--script", "sleep 100")
	if code != 130 {
		t.Errorf("exit %d, want 130 (stderr %q)", code, errOut)
	}
	if len(f.called("POST /api/v1/tasks/k1/cancel")) != 1 {
		t.Error("the task was not canceled on the server")
	}
	if !strings.Contains(errOut, "interrupted; canceled task k1") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestRunInterruptCancelFails(t *testing.T) {
	t.Parallel()
	ctx, interrupt := context.WithCancel(t.Context())
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks": jsonAnswer(201, `{"id":"k1","state":"queued"}`),
		"GET /api/v1/tasks/k1/log": func(w http.ResponseWriter, r *http.Request) {
			interrupt()
			<-r.Context().Done()
		},
	})
	code, _, errOut := runCLI(ctx, nil, "--server", f.url, "run", "--script", "sleep 100")
	if code != 130 || !strings.Contains(errOut, "interrupted; cancel task k1: not_found") {
		t.Errorf("exit %d, stderr %q; want 130 and the cancel error", code, errOut)
	}
}

func TestRunLogStreamFails(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks":       jsonAnswer(201, `{"id":"k1","state":"queued"}`),
		"GET /api/v1/tasks/k1/log": jsonAnswer(403, `{"error":{"code":"forbidden","message":"no"}}`),
	})
	code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "run", "--script", "x")
	if code != 1 || !strings.Contains(errOut, "follow log of task k1: forbidden: no (HTTP 403)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	running := func(workerID string) *api.Task {
		return &api.Task{State: api.StateRunning, Steps: []api.Step{
			{State: api.StateSuccess},
			{State: api.StateRunning, PoolID: "p1", WorkerID: workerID},
		}}
	}
	names := map[string]string{"p1": "linux", "ubuntu-22.04": "Ubuntu Server 22.04"}
	workers := []api.Worker{
		{ID: "w-1", State: api.WorkerProvisioning, Image: "ubuntu-22.04"},
		{ID: "w-2", State: api.WorkerBusy, Image: "ubuntu-22.04"},
	}
	tests := []struct {
		name string
		task *api.Task
		want string
	}{
		{"queued", &api.Task{State: api.StateQueued}, "queued"},
		{"no worker yet", running(""), "waiting for a worker from pool linux"},
		{"provisioning", running("w-1"), "provisioning worker w-1 (Ubuntu Server 22.04)"},
		{"busy", running("w-2"), "running on worker w-2"},
		{"unknown pool", &api.Task{State: api.StateRunning, Steps: []api.Step{{State: api.StateQueued, PoolID: "p9"}}},
			"waiting for a worker from pool p9"},
		{"ended", &api.Task{State: api.StateSuccess}, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := statusText(tt.task, workers, names); got != tt.want {
				t.Errorf("statusText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStatusLine(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	s := newStatusLine(&b)
	s.clear() // nothing shown: writes nothing
	s.show("queued")
	s.clear()
	s.clear()
	if want := "\r\033[Kqueued (0s)\r\033[K"; b.String() != want {
		t.Errorf("written %q, want %q", b.String(), want)
	}
	var none *statusLine
	none.clear() // a nil status line is a no-op
}

func TestRunStatusLineOnTerminal(t *testing.T) {
	t.Parallel()
	// The second poll of the task means the first status line is drawn.
	polledTwice := make(chan struct{})
	var polls atomic.Int32
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/pools":  jsonAnswer(200, `{"pools":[{"id":"p1","name":"linux"}]}`),
		"GET /api/v1/images": jsonAnswer(200, `{"images":[{"id":"ubuntu-22.04","name":"Ubuntu Server 22.04"}]}`),
		"GET /api/v1/tasks/k1": func(w http.ResponseWriter, r *http.Request) {
			if polls.Add(1) == 2 {
				close(polledTwice)
			}
			jsonAnswer(200, `{"id":"k1","state":"running","steps":[{"state":"running","pool_id":"p1","worker_id":"w-1"}]}`)(w, r)
		},
		"GET /api/v1/workers": jsonAnswer(200, `{"workers":[{"id":"w-1","state":"provisioning","image":"ubuntu-22.04"}]}`),
		"GET /api/v1/tasks/k1/log": func(w http.ResponseWriter, r *http.Request) {
			<-polledTwice
			sseAnswer([]api.LogLine{{Seq: 1, Level: api.LevelInfo, Message: "done"}},
				api.Task{ID: "k1", State: api.StateSuccess})(w, r)
		},
	})
	var out, errb bytes.Buffer
	a := &app{server: f.url, output: outputTable, isTerminal: func(io.Writer) bool { return true }}
	cmd := &cobra.Command{}
	cmd.SetContext(t.Context())
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	if err := a.followTask(cmd, a.client(), &api.Task{ID: "k1"}); err != nil {
		t.Fatalf("followTask: %v", err)
	}
	if want := "\r\033[Kprovisioning worker w-1 (Ubuntu Server 22.04) ("; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", errb.String(), want)
	}
	if !strings.HasSuffix(errb.String(), "\r\033[K") {
		t.Errorf("stderr = %q, want the status line cleared at the end", errb.String())
	}
	if !strings.Contains(out.String(), "INFO    done") {
		t.Errorf("stdout = %q", out.String())
	}
}
