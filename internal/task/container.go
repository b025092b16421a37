package task

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/distribution/reference"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
	"github.com/dynpool/dynpool/internal/variable"
)

// ContainerHost runs execution containers beside workers. The server wires
// one for its provider: the docker provider's engine for container
// workers, the local engine for process workers.
type ContainerHost interface {
	// RunContainer runs spec for worker w and returns the script's exit
	// code. It calls image once the image is present (cached or pulled)
	// and line for each output line, never after it returns. An error
	// says why the container could not run (no engine, a failed pull with
	// the registry's message, a directory outside the worker's); when ctx
	// ends first the container is stopped.
	RunContainer(ctx context.Context, w *store.Worker, spec *ContainerSpec, image func(cached bool, took time.Duration), line func(stream, line string)) (int, error)
}

// ContainerSpec is one step's execution container.
type ContainerSpec struct {
	JobID string
	Image string
	// Dir is the job's directory on the worker, as the agent sent it.
	Dir     string
	Command []string
	Env     map[string]string
	// Keep, when it reports true as the run's ctx ends, leaves the
	// container running: the server is stopping, and the agent will ask
	// the next one, which follows the same container.
	Keep func() bool
}

// outputFlushPeriod is how often an execution container's output goes to
// the task log: a batching interval, not a timeout, so it runs on real
// time.
const outputFlushPeriod = 200 * time.Millisecond

// containerImage checks a step's execution container and returns its
// image reference ("" for none).
func (r *Runner) containerImage(field string, c *api.Container) (string, error) {
	if c == nil {
		return "", nil
	}
	if r.cfg.Containers == nil {
		return "", validation.Errorf(field, "execution containers are not available on this server; run the step without a container")
	}
	if c.Image == "" {
		return "", validation.Errorf(field+".image", "is empty; give a container image reference such as \"ubuntu:22.04\"")
	}
	if _, err := reference.ParseNormalizedNamed(c.Image); err != nil {
		return "", validation.Errorf(field+".image", "%q is not a container image reference: %v", c.Image, err)
	}
	return c.Image, nil
}

// RunContainer runs job jobID of worker w in its execution container: it
// starts when the agent has written the script into req.Dir and ends with
// the container. The output goes to the task log like an agent's. The
// answer's Error says why a container could not run; an error is
// returned for a job that is not w's or has no container. keep says, when
// ctx ends, whether to leave the container running (see ContainerSpec).
func (r *Runner) RunContainer(ctx context.Context, w *store.Worker, jobID string, req *api.ContainerRunRequest, keep func() bool) (*api.ContainerRunResponse, error) {
	s, t, err := r.runningJob(ctx, w, jobID)
	if err != nil {
		return nil, err
	}
	if s.ContainerImage == "" {
		return nil, validation.Errorf("", "job %s has no execution container", jobID)
	}
	if len(req.Command) == 0 {
		return nil, validation.Errorf("command", "is empty")
	}
	if !path.IsAbs(req.Dir) || path.Clean(req.Dir) != req.Dir {
		return nil, validation.Errorf("dir", "%q is not a clean absolute path", req.Dir)
	}
	out := &outputBatch{flush: func(lines []api.AgentLogLine) error {
		return r.appendLines(context.WithoutCancel(ctx), t, s, lines)
	}}
	tv, err := r.loadVariables(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	// The docker provider cuts lines at 64 KiB as the agent does: the
	// filter masks values across the cuts before the lines are batched.
	filter := variable.NewFilter(tv.masker(), func(stream, line string) {
		out.add(api.AgentLogLine{Time: r.cfg.Clock.Now(), Stream: stream, Message: line})
	})
	stopFlushing := out.every(outputFlushPeriod)
	spec := &ContainerSpec{JobID: jobID, Image: s.ContainerImage, Dir: req.Dir, Command: req.Command, Env: req.Env, Keep: keep}
	imageReady := func(cached bool, took time.Duration) {
		took = took.Round(time.Millisecond)
		if cached {
			r.log(ctx, t.ID, s.Name, api.LevelInfo, "Execution container image %s was cached on worker %s (found in %s)", s.ContainerImage, w.ID, took)
		} else {
			r.log(ctx, t.ID, s.Name, api.LevelInfo, "Execution container image %s was not cached on worker %s: pulled in %s", s.ContainerImage, w.ID, took)
		}
	}
	code, runErr := r.cfg.Containers.RunContainer(ctx, w, spec, imageReady, filter.Line)
	filter.Flush()
	if err := stopFlushing(); err != nil {
		return nil, err
	}
	switch {
	case runErr == nil:
		return &api.ContainerRunResponse{ExitCode: code}, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("run execution container of job %s: %w", jobID, ctx.Err())
	default:
		return &api.ContainerRunResponse{ExitCode: -1, Error: runErr.Error()}, nil
	}
}

// outputBatch gathers output lines and hands them to flush in batches.
type outputBatch struct {
	flush func([]api.AgentLogLine) error
	mu    sync.Mutex
	lines []api.AgentLogLine
}

func (b *outputBatch) add(l api.AgentLogLine) {
	b.mu.Lock()
	b.lines = append(b.lines, l)
	b.mu.Unlock()
}

// take returns the lines gathered so far and forgets them.
func (b *outputBatch) take() []api.AgentLogLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := b.lines
	b.lines = nil
	return lines
}

// every flushes the batch each period until the returned stop is called;
// stop flushes what is left and returns the flushes' errors.
func (b *outputBatch) every(period time.Duration) (stop func() error) {
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		ticker := time.NewTicker(period)
		defer ticker.Stop()
		var first error
		for {
			select {
			case <-ticker.C:
				if lines := b.take(); len(lines) > 0 {
					first = errors.Join(first, b.flush(lines))
				}
			case <-done:
				if lines := b.take(); len(lines) > 0 {
					first = errors.Join(first, b.flush(lines))
				}
				errc <- first
				return
			}
		}
	}()
	return func() error {
		close(done)
		return <-errc
	}
}
