package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/provider"
)

// Labels of an execution container besides the provider.Label* ones. List
// skips containers with LabelRole, so they are never taken for workers.
const (
	LabelRole = "dynpool.role"
	LabelJob  = "dynpool.job"
	// LabelResource names the worker container an execution container
	// shares the volumes of, so that the worker's Destroy finds it even
	// when the worker container is gone.
	LabelResource = "dynpool.resource"
	// RoleStep is LabelRole's value on execution containers.
	RoleStep = "step"
)

// StepContainer is an execution container: one step's script run inside a
// container of the step's image, on its worker's tenant network, with the
// step's working directory shared with the worker.
type StepContainer struct {
	// JobID is the step's job; the container is named
	// <NetworkPrefix>-<Installation>-step-<JobID>, so a second RunStep of
	// one job (after a server restart) finds the first's container.
	JobID    string
	WorkerID string
	TenantID string
	// Image is the container image reference.
	Image string
	// Command is the interpreter and the script's path, e.g.
	// ["bash", "/work/job-1/script.sh"].
	Command []string
	// Env is the script's environment.
	Env map[string]string
	// Dir is the step's working directory, an absolute path; the container
	// starts in it.
	Dir string
	// Exactly one of VolumesFrom and BindDir says how Dir is shared:
	// VolumesFrom is the worker container whose volumes (its work
	// directory) the step container mounts too (docker workers); BindDir is
	// a directory on the engine's host mounted at Dir (local process
	// workers).
	VolumesFrom string
	BindDir     string
	// User runs the script as this "uid:gid" instead of the image's user;
	// with BindDir, the owner of the directory, so that what the script
	// writes there is not root's on the host.
	User string
}

func (sc *StepContainer) validate() error {
	var errs []error
	for _, n := range []struct{ what, v string }{{"job id", sc.JobID}, {"worker id", sc.WorkerID}, {"tenant id", sc.TenantID}} {
		if !validName.MatchString(n.v) {
			errs = append(errs, fmt.Errorf("%w: %s %q", ErrInvalidName, n.what, n.v))
		}
	}
	if sc.Image == "" {
		errs = append(errs, errors.New("image is empty"))
	}
	if len(sc.Command) == 0 {
		errs = append(errs, errors.New("command is empty"))
	}
	if !path.IsAbs(sc.Dir) || path.Clean(sc.Dir) != sc.Dir {
		errs = append(errs, fmt.Errorf("dir %q is not a clean absolute path", sc.Dir))
	}
	if (sc.VolumesFrom == "") == (sc.BindDir == "") {
		errs = append(errs, errors.New("want exactly one of volumes-from and bind dir"))
	}
	return errors.Join(errs...)
}

// StepEvents receives what happens while a step container runs. Both
// functions may be nil.
type StepEvents struct {
	// Image is called once the image is present, saying whether it was
	// cached or pulled and how long that took.
	Image func(ImagePresence)
	// Line is called for each line of output, in order per stream, never
	// after RunStep returns.
	Line func(stream, line string)
	// Keep, when it reports true as ctx ends, leaves the container
	// running (the server is stopping; the next one follows it) instead of
	// killing it.
	Keep func() bool
}

// RunStep runs sc to its end and returns its exit code. The image is
// pulled when the engine lacks it (a failed pull is an error with the
// registry's message). The container gets the worker's CPU and memory
// limits, the engine's init, no privileges and no Docker socket. When ctx
// ends first the container is killed, unless ev.Keep says to leave it.
// Otherwise the container is removed in every case, and so is the
// tenant's network when it was made for sc alone.
//
// A container of the same job left running by an earlier RunStep (the
// server restarted while the step ran) is not started twice: RunStep
// follows it from now on and returns its exit code.
func (p *Provider) RunStep(ctx context.Context, sc *StepContainer, ev StepEvents) (int, error) {
	if err := sc.validate(); err != nil {
		return -1, fmt.Errorf("run step container: %w", err)
	}
	got, err := p.EnsureImage(ctx, sc.Image)
	if err != nil {
		return -1, fmt.Errorf("execution container: %w", err)
	}
	if ev.Image != nil {
		ev.Image(got)
	}
	netName := p.networkName(sc.TenantID)
	name := p.cfg.NetworkPrefix + "-" + p.cfg.Installation + "-step-" + sc.JobID
	cc, hc := p.stepSpec(sc, netName)
	id, resumed, err := p.createStep(ctx, sc, netName, name, cc, hc)
	if err != nil {
		return -1, fmt.Errorf("execution container: %w", err)
	}
	defer func() {
		if ctx.Err() != nil && ev.Keep != nil && ev.Keep() {
			p.cfg.Logger.InfoContext(ctx, "execution container left running for the next server", "job_id", sc.JobID, "container_id", id)
			return
		}
		p.removeStep(context.WithoutCancel(ctx), sc, id)
	}()
	return p.followStep(ctx, id, resumed, ev.Line)
}

// stepSpec returns the container and host configuration of sc.
func (p *Provider) stepSpec(sc *StepContainer, netName string) (*container.Config, *container.HostConfig) {
	init := true
	env := make([]string, 0, len(sc.Env))
	for _, k := range slices.Sorted(maps.Keys(sc.Env)) {
		env = append(env, k+"="+sc.Env[k])
	}
	cc := &container.Config{
		Image:      sc.Image,
		Entrypoint: sc.Command[:1],
		Cmd:        sc.Command[1:],
		WorkingDir: sc.Dir,
		Env:        env,
		User:       sc.User,
		Labels: map[string]string{
			provider.LabelInstallation: p.cfg.Installation,
			provider.LabelWorker:       sc.WorkerID,
			provider.LabelTenant:       sc.TenantID,
			LabelRole:                  RoleStep,
			LabelJob:                   sc.JobID,
		},
	}
	hc := &container.HostConfig{
		NetworkMode:   container.NetworkMode(netName),
		ExtraHosts:    []string{HostGateway + ":host-gateway"},
		Init:          &init,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		Resources:     container.Resources{NanoCPUs: int64(p.cfg.CPUs * 1e9), Memory: p.cfg.MemoryBytes},
	}
	if sc.VolumesFrom != "" {
		hc.VolumesFrom = []string{sc.VolumesFrom}
		cc.Labels[LabelResource] = sc.VolumesFrom
	} else {
		hc.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: sc.BindDir, Target: sc.Dir}}
	}
	return cc, hc
}

// createStep creates and starts sc's container, or finds the one an
// earlier call left (resumed). It returns the container's id.
func (p *Provider) createStep(ctx context.Context, sc *StepContainer, netName, name string, cc *container.Config, hc *container.HostConfig) (id string, resumed bool, err error) {
	unlock := p.locks.lock("network/" + netName)
	if err := p.ensureNetwork(ctx, netName, sc.TenantID); err != nil {
		unlock()
		return "", false, err
	}
	resp, err := p.client.ContainerCreate(ctx, cc, hc, nil, nil, name)
	unlock()
	if cerrdefs.IsConflict(err) {
		info, ierr := p.client.ContainerInspect(ctx, name)
		if ierr != nil {
			return "", false, fmt.Errorf("inspect container %s left by an earlier run: %w", name, ierr)
		}
		if info.Config == nil || info.Config.Labels[LabelJob] != sc.JobID || info.Config.Labels[provider.LabelInstallation] != p.cfg.Installation {
			return "", false, fmt.Errorf("container %s exists and is not this job's", name)
		}
		return info.ID, true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("create container of image %q: %w", sc.Image, err)
	}
	if err := p.client.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		p.removeStep(context.WithoutCancel(ctx), sc, resp.ID)
		return "", false, fmt.Errorf("start container of image %q: %w", sc.Image, err)
	}
	return resp.ID, false, nil
}

// followStep streams container id's output to line until it exits, and
// returns its exit code; a resumed container's output is followed from
// now. When ctx ends first the container is killed.
func (p *Provider) followStep(ctx context.Context, id string, resumed bool, line func(stream, line string)) (int, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true}
	if resumed {
		// Output from now on, to the nanosecond: what came before went to
		// the earlier follower; what came in between is lost.
		now := time.Now()
		opts.Since = fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond())
	}
	logs, err := p.client.ContainerLogs(ctx, id, opts)
	if err != nil {
		return -1, fmt.Errorf("follow container output: %w", err)
	}
	defer logs.Close()
	stdout, stderr := newLineWriter(api.StreamStdout, line), newLineWriter(api.StreamStderr, line)
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, logs)
		copied <- err
	}()
	waitC, errC := p.client.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		// The log stream ends once the container has stopped.
		copyErr := <-copied
		stdout.flush()
		stderr.flush()
		if res.Error != nil && res.Error.Message != "" {
			return -1, fmt.Errorf("wait for container: %s", res.Error.Message)
		}
		if copyErr != nil {
			return -1, fmt.Errorf("read container output: %w", copyErr)
		}
		return int(res.StatusCode), nil
	case err := <-errC:
		if ctx.Err() != nil {
			return -1, fmt.Errorf("execution container stopped: %w", ctx.Err())
		}
		return -1, fmt.Errorf("wait for container: %w", err)
	case <-ctx.Done():
		return -1, fmt.Errorf("execution container stopped: %w", ctx.Err())
	}
}

// removeStep force-removes (killing) step container id, and the tenant's
// network when sc's worker is no container (nothing else keeps it).
// Failures are logged: the worker's Destroy removes its step containers.
func (p *Provider) removeStep(ctx context.Context, sc *StepContainer, id string) {
	err := p.client.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		p.cfg.Logger.WarnContext(ctx, "remove execution container", "worker_id", sc.WorkerID, "job_id", sc.JobID, "container_id", id, "error", err)
	}
	if sc.BindDir != "" {
		p.removeNetworkIfUnused(ctx, sc.TenantID)
	}
}
