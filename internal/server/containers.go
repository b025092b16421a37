package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/docker"
	"github.com/dynpool/dynpool/internal/provider/process"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
)

// newContainerHost returns the execution-container host for prov, or nil
// when its workers can have none (steps with a container are then refused
// when submitted):
//   - docker workers: the provider's own engine runs the step container on
//     the tenant's network, sharing the worker's work volume;
//   - process workers: the local engine (dockerCfg.Host, else the
//     DOCKER_HOST environment, else the local socket), connected on first
//     use; the step's directory is bind-mounted. While no engine answers, a
//     step with a container fails with an error that says so.
func newContainerHost(prov provider.Provider, dockerCfg docker.Config, installation string, logger *slog.Logger) task.ContainerHost {
	switch p := prov.(type) {
	case *docker.Provider:
		return &containerHost{engine: func(context.Context) (*docker.Provider, error) { return p, nil }, share: shareWorkVolume}
	case *process.Provider:
		cfg := docker.Config{Installation: installation, Host: dockerCfg.Host, NetworkPrefix: dockerCfg.NetworkPrefix,
			CPUs: dockerCfg.CPUs, MemoryBytes: dockerCfg.MemoryBytes, Logger: logger}
		local := &localEngine{cfg: cfg}
		return &containerHost{engine: local.get, share: func(w *store.Worker, dir string, sc *docker.StepContainer) error {
			return shareProcessDir(p, w, dir, sc)
		}}
	}
	return nil
}

// containerHost implements task.ContainerHost on a Docker engine.
type containerHost struct {
	engine func(context.Context) (*docker.Provider, error)
	// share sets how sc shares the job directory dir with worker w, or
	// says why it cannot.
	share func(w *store.Worker, dir string, sc *docker.StepContainer) error
}

func (h *containerHost) RunContainer(ctx context.Context, w *store.Worker, spec *task.ContainerSpec, image func(cached bool, took time.Duration), line func(stream, line string)) (int, error) {
	engine, err := h.engine(ctx)
	if err != nil {
		return -1, err
	}
	sc := &docker.StepContainer{
		JobID: spec.JobID, WorkerID: w.ID, TenantID: w.TenantID,
		Image: spec.Image, Command: spec.Command, Env: spec.Env, Dir: spec.Dir,
	}
	if err := h.share(w, spec.Dir, sc); err != nil {
		return -1, err
	}
	return engine.RunStep(ctx, sc, docker.StepEvents{
		Image: func(got docker.ImagePresence) { image(!got.Pulled, got.Took) },
		Line:  line,
		Keep:  spec.Keep,
	})
}

// shareWorkVolume shares a docker worker's work volume: dir must lie in it.
func shareWorkVolume(w *store.Worker, dir string, sc *docker.StepContainer) error {
	if !strings.HasPrefix(path.Clean(dir), docker.WorkDir+"/") {
		return fmt.Errorf("the job directory %q is not inside the worker's work directory %s", dir, docker.WorkDir)
	}
	sc.VolumesFrom = w.ResourceID
	return nil
}

// shareProcessDir bind-mounts a process worker's job directory dir, which
// must lie in the worker's own directory (symbolic links resolved, so a
// link cannot point the mount elsewhere on the host), and runs the script
// as the server's user, who owns it. (The check and the mount are not
// atomic; the process provider isolates nothing anyway: its scripts run as
// the server's user. See docs/containers.md.)
func shareProcessDir(p *process.Provider, w *store.Worker, dir string, sc *docker.StepContainer) error {
	root, err := p.WorkerDir(w.ID)
	if err != nil {
		return err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("find the worker's directory: %w", err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("find the job directory: %w", err)
	}
	rel, err := filepath.Rel(realRoot, realDir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("the job directory %q is not inside the worker's directory %s", dir, root)
	}
	sc.BindDir = realDir
	sc.User = fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()) // the agent's, who owns the directory
	return nil
}

// localEngine connects to the local Docker engine on first use, and again
// on each use until it answers once.
type localEngine struct {
	cfg docker.Config
	mu  sync.Mutex
	p   *docker.Provider
}

func (l *localEngine) get(ctx context.Context) (*docker.Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		return l.p, nil
	}
	p, err := docker.NewForSteps(ctx, l.cfg)
	if err != nil {
		return nil, fmt.Errorf("execution containers of process workers run on this server's local Docker engine: %w", err)
	}
	l.p = p
	return p, nil
}
