package docker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/provider"
)

// toolsImage is the execution-container image .ci/docker-images.sh builds:
// the worker image plus /etc/dynpool-tools holding its own name.
const toolsImage = "dynpool-test/tools:1"

// recorder keeps what RunStep reports.
type recorder struct {
	mu     sync.Mutex
	images []ImagePresence
	lines  []string // "stream: line"
	seen   chan string
}

func newRecorder() *recorder { return &recorder{seen: make(chan string, 100)} }

func (r *recorder) events() StepEvents {
	return StepEvents{
		Image: func(got ImagePresence) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.images = append(r.images, got)
		},
		Line: func(stream, line string) {
			r.mu.Lock()
			r.lines = append(r.lines, stream+": "+line)
			r.mu.Unlock()
			select {
			case r.seen <- line:
			default:
			}
		},
	}
}

func (r *recorder) got() ([]ImagePresence, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.images), slices.Clone(r.lines)
}

// stepContainers returns the execution containers of p's installation.
func stepContainers(t *testing.T, p *Provider) []container.Summary {
	t.Helper()
	cs, err := p.client.ContainerList(context.Background(), container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", provider.LabelInstallation+"="+p.cfg.Installation),
			filters.Arg("label", LabelRole+"="+RoleStep),
		),
	})
	if err != nil {
		t.Fatalf("list step containers: %v", err)
	}
	return cs
}

// writeInWorker runs a shell command in worker container id and fails the
// test unless it exits 0; it returns the command's output.
func writeInWorker(t *testing.T, p *Provider, id, script string) string {
	t.Helper()
	out, code := execIn(t.Context(), t, p, id, "sh", "-c", script)
	if code != 0 {
		t.Fatalf("sh -c %q in worker: exit %d: %s", script, code, out)
	}
	return out
}

// scriptDir returns a new directory holding script.sh with body, and the
// script's path.
func scriptDir(t *testing.T, body string) (dir, script string) {
	t.Helper()
	dir = t.TempDir()
	script = filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, script
}

func TestRunStepSharesTheWorkersDirectory(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	w := create(t, p, "w-1", "t-1")
	writeInWorker(t, p, w.ID, `mkdir -p /work/job-1 && cat > /work/job-1/script.sh <<'EOF'
echo "out $STEP_VAR"
echo err >&2
cat /etc/dynpool-tools
pwd
echo made > made.txt
exit 7
EOF`)
	rec := newRecorder()
	code, err := p.RunStep(t.Context(), &StepContainer{
		JobID: "job-1", WorkerID: "w-1", TenantID: "t-1", Image: toolsImage,
		Command: []string{"sh", "/work/job-1/script.sh"}, Env: map[string]string{"STEP_VAR": "x"},
		Dir: "/work/job-1", VolumesFrom: w.ID,
	}, rec.events())
	if err != nil || code != 7 {
		t.Fatalf("RunStep = %d, %v; want the script's exit code 7", code, err)
	}
	images, lines := rec.got()
	if len(images) != 1 || images[0].Pulled || images[0].Ref != toolsImage {
		t.Errorf("image events = %+v, want one: %s cached", images, toolsImage)
	}
	want := []string{"stdout: out x", "stderr: err", "stdout: " + toolsImage, "stdout: /work/job-1"}
	slices.Sort(want)
	slices.Sort(lines)
	if !slices.Equal(lines, want) {
		t.Errorf("output = %q, want %q (the script ran in the tools image, in the shared directory)", lines, want)
	}
	if got := writeInWorker(t, p, w.ID, "cat /work/job-1/made.txt"); got != "made\n" {
		t.Errorf("made.txt as the worker sees it = %q, want %q", got, "made\n")
	}
	if left := stepContainers(t, p); len(left) != 0 {
		t.Errorf("execution containers left: %v", left)
	}
	if ids := listedIDs(t, p); !slices.Equal(ids, []string{w.ID}) {
		t.Errorf("List = %v, want only the worker %s", ids, w.ID)
	}
}

func TestRunStepBindsADirectoryOfTheHost(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	dir, script := scriptDir(t, "echo hi > made.txt\n")
	code, err := p.RunStep(t.Context(), &StepContainer{
		JobID: "job-1", WorkerID: "w-1", TenantID: "t-1", Image: toolsImage,
		Command: []string{"sh", script}, Dir: dir, BindDir: dir,
	}, StepEvents{})
	if err != nil || code != 0 {
		t.Fatalf("RunStep = %d, %v; want 0", code, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "made.txt")); err != nil || string(got) != "hi\n" {
		t.Errorf("made.txt on the host = %q, %v; want %q", got, err, "hi\n")
	}
	if networkExists(t, p, p.networkName("t-1")) {
		t.Error("the tenant network made for the step alone is still there")
	}
}

func TestRunStepPullFailure(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	const image = "dynpool-test/absent:never"
	_, err := p.RunStep(t.Context(), &StepContainer{
		JobID: "job-1", WorkerID: "w-1", TenantID: "t-1", Image: image,
		Command: []string{"sh", "/work/x.sh"}, Dir: "/work", BindDir: t.TempDir(),
	}, StepEvents{})
	// The engine's message differs with its network: no registry answers
	// here, one elsewhere says the repository does not exist.
	if err == nil || !strings.Contains(err.Error(), `pull image "`+image+`": `) {
		t.Fatalf("RunStep = %v, want a pull error naming %s with the engine's message", err, image)
	}
	if left := stepContainers(t, p); len(left) != 0 {
		t.Errorf("execution containers left: %v", left)
	}
}

func TestRunStepStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	dir, script := scriptDir(t, "echo started\nsleep 300\n")
	ctx, cancel := context.WithCancel(t.Context())
	rec := newRecorder()
	done := make(chan error, 1)
	go func() {
		_, err := p.RunStep(ctx, &StepContainer{
			JobID: "job-1", WorkerID: "w-1", TenantID: "t-1", Image: toolsImage,
			Command: []string{"sh", script}, Dir: dir, BindDir: dir,
		}, rec.events())
		done <- err
	}()
	if line := <-rec.seen; line != "started" {
		t.Fatalf("first line = %q, want started", line)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunStep after cancel = %v, want context.Canceled", err)
	}
	if left := stepContainers(t, p); len(left) != 0 {
		t.Errorf("execution containers left after cancel: %v", left)
	}
}

// A server that restarts while a step container runs calls RunStep again
// for the same job: the container runs on, it is not started twice.
func TestRunStepFollowsTheContainerOfAnEarlierRun(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	// The script counts its runs in a file of its directory.
	dir, script := scriptDir(t, "echo run >> runs\nsleep 2\necho late\nexit 3\n")
	counter := filepath.Join(dir, "runs")
	sc := &StepContainer{
		JobID: "job-1", WorkerID: "w-1", TenantID: "t-1", Image: toolsImage,
		Command: []string{"sh", script}, Dir: dir, BindDir: dir,
	}
	// The earlier run, cut short before it followed the container.
	netName := p.networkName(sc.TenantID)
	cc, hc := p.stepSpec(sc, netName)
	name := p.cfg.NetworkPrefix + "-" + p.cfg.Installation + "-step-" + sc.JobID
	if _, resumed, err := p.createStep(t.Context(), sc, netName, name, cc, hc); err != nil || resumed {
		t.Fatalf("first createStep = resumed %v, %v", resumed, err)
	}
	code, err := p.RunStep(t.Context(), sc, StepEvents{})
	if err != nil || code != 3 {
		t.Fatalf("RunStep of a running job = %d, %v; want its exit code 3", code, err)
	}
	if got, _ := os.ReadFile(counter); string(got) != "run\n" {
		t.Errorf("the script ran %q times, want once", got)
	}
}

func TestDestroyRemovesTheWorkersStepContainers(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	w := create(t, p, "w-1", "t-1")
	sc := &StepContainer{
		JobID: "job-1", WorkerID: "w-1", TenantID: "t-1", Image: toolsImage,
		Command: []string{"sleep", "300"}, Dir: "/work", VolumesFrom: w.ID,
	}
	netName := p.networkName(sc.TenantID)
	cc, hc := p.stepSpec(sc, netName)
	if _, _, err := p.createStep(t.Context(), sc, netName, "step-left-"+p.cfg.Installation, cc, hc); err != nil {
		t.Fatalf("createStep: %v", err)
	}
	if ids := listedIDs(t, p); !slices.Equal(ids, []string{w.ID}) {
		t.Errorf("List = %v, want only the worker %s (no execution container)", ids, w.ID)
	}
	destroy(t, p, w.ID)
	if left := stepContainers(t, p); len(left) != 0 {
		t.Errorf("execution containers left after the worker's Destroy: %v", left)
	}
	if networkExists(t, p, netName) {
		t.Error("tenant network left after its last worker went")
	}

	// A worker container removed behind the provider's back: its Destroy
	// still finds the execution container by the worker container's id.
	w2 := create(t, p, "w-2", "t-1")
	sc.JobID, sc.WorkerID, sc.VolumesFrom = "job-2", "w-2", w2.ID
	cc, hc = p.stepSpec(sc, netName)
	if _, _, err := p.createStep(t.Context(), sc, netName, "step-left-2-"+p.cfg.Installation, cc, hc); err != nil {
		t.Fatalf("createStep: %v", err)
	}
	if err := p.client.ContainerRemove(t.Context(), w2.ID, container.RemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove the worker container behind the provider's back: %v", err)
	}
	destroy(t, p, w2.ID)
	if left := stepContainers(t, p); len(left) != 0 {
		t.Errorf("execution containers left after the Destroy of a vanished worker: %v", left)
	}
}

func TestRunStepValidates(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	good := StepContainer{JobID: "j", WorkerID: "w", TenantID: "t", Image: toolsImage, Command: []string{"sh"}, Dir: "/work", BindDir: "/tmp"}
	tests := []struct {
		name string
		edit func(*StepContainer)
		want string
	}{
		{"bad job id", func(sc *StepContainer) { sc.JobID = "a b" }, `job id "a b"`},
		{"no image", func(sc *StepContainer) { sc.Image = "" }, "image is empty"},
		{"no command", func(sc *StepContainer) { sc.Command = nil }, "command is empty"},
		{"relative dir", func(sc *StepContainer) { sc.Dir = "work" }, "not a clean absolute path"},
		{"unclean dir", func(sc *StepContainer) { sc.Dir = "/work/../etc" }, "not a clean absolute path"},
		{"both shares", func(sc *StepContainer) { sc.VolumesFrom = "c" }, "exactly one of"},
		{"no share", func(sc *StepContainer) { sc.BindDir = "" }, "exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := good
			tt.edit(&sc)
			if _, err := p.RunStep(t.Context(), &sc, StepEvents{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RunStep = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestCreateCachesWorkerTools(t *testing.T) {
	t.Parallel()
	needEngine(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	p := newProvider(t, standIn(t, sleeper))
	p.cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	first := params(p, "w-1", "t-1")
	first.CacheImages = []string{toolsImage, "dynpool-test/absent:never"}
	if _, err := p.Create(t.Context(), first); err != nil {
		t.Fatalf("Create with an image that cannot be pulled = %v, want the worker made anyway", err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, `msg="worker-tools image cached" worker_id=w-1 image=`+toolsImage+` pulled=false`) {
		t.Errorf("log does not say %s was found cached:\n%s", toolsImage, out)
	}
	if !strings.Contains(out, `msg="worker-tools image not cached" worker_id=w-1 image=dynpool-test/absent:never error=`) {
		t.Errorf("log does not warn that dynpool-test/absent:never could not be cached:\n%s", out)
	}
	// The next worker does not wait for a pull that just failed.
	second := params(p, "w-2", "t-1")
	second.CacheImages = []string{"dynpool-test/absent:never"}
	if _, err := p.Create(t.Context(), second); err != nil {
		t.Fatalf("second Create: %v", err)
	}
	mu.Lock()
	out = logs.String()
	mu.Unlock()
	if n := strings.Count(out, `msg="worker-tools image not cached"`); n != 1 {
		t.Errorf("the failed image was pulled %d times for two workers, want once:\n%s", n, out)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestLineWriter(t *testing.T) {
	t.Parallel()
	var got []string
	w := newLineWriter(api.StreamStdout, func(stream, line string) { got = append(got, stream+":"+line) })
	long := strings.Repeat("x", maxLine+3)
	for _, chunk := range []string{"a\nb", "c\r\n", long, "\n", "tail"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	want := []string{"stdout:a", "stdout:bc", "stdout:" + long[:maxLine], "stdout:xxx", "stdout:tail"}
	if !slices.Equal(got, want) {
		t.Errorf("lines = %d %q..., want %d", len(got), got[:min(2, len(got))], len(want))
	}
}

// pushed pushes toolsImage to the test registry (DYNPOOL_TEST_REGISTRY,
// started by .ci/registry.sh) under a name of the test's own, removes it
// from the engine, and returns its reference; it skips without a registry.
func pushed(t *testing.T, p *Provider) string {
	t.Helper()
	reg := os.Getenv("DYNPOOL_TEST_REGISTRY")
	if reg == "" {
		t.Skip("skipping: DYNPOOL_TEST_REGISTRY is unset (start a registry with `eval \"$(bash .ci/registry.sh)\"`)")
	}
	ctx := t.Context()
	ref := reg + "/dynpool-test/" + strings.ToLower(p.cfg.Installation) + ":1"
	if err := p.client.ImageTag(ctx, toolsImage, ref); err != nil {
		t.Fatalf("tag %s: %v", ref, err)
	}
	rc, err := p.client.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: "e30="}) // base64 "{}": no credentials
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	err = jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
	rc.Close()
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	if _, err := p.client.ImageRemove(ctx, ref, image.RemoveOptions{}); err != nil {
		t.Fatalf("remove %s after the push: %v", ref, err)
	}
	t.Cleanup(func() { _, _ = p.client.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	return ref
}

func TestEnsureImagePullsOnceFromARegistry(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	ref := pushed(t, p)
	got, err := p.EnsureImage(t.Context(), ref)
	if err != nil || !got.Pulled {
		t.Fatalf("EnsureImage of an image only the registry has = %+v, %v; want it pulled", got, err)
	}
	got, err = p.EnsureImage(t.Context(), ref)
	if err != nil || got.Pulled {
		t.Fatalf("second EnsureImage = %+v, %v; want it cached", got, err)
	}
}
