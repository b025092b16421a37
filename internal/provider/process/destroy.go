package process

import (
	"context"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
)

const (
	// killGrace is how long a worker's processes have between SIGTERM and
	// SIGKILL. It is longer than the agent's own grace for its script
	// (agent.ScriptKillGrace, 5 s), so an agent told to stop can stop its
	// script and report the job before it is killed. Destroy polls, so it
	// waits this long only for processes that ignore SIGTERM.
	killGrace = 10 * time.Second
	// killWait is how long processes have to vanish after SIGKILL.
	killWait = 5 * time.Second
	// pollInterval is how often Destroy checks whether processes are gone.
	pollInterval = 20 * time.Millisecond
)

// destroyCall is one Destroy in progress; concurrent calls for the same
// worker wait for it and share its result.
type destroyCall struct {
	done chan struct{}
	err  error
}

// Destroy ends worker resourceID: SIGTERM to the agent's process group and
// to every process (and its group) whose environment names this
// installation and worker, SIGKILL to what is left after killGrace (10 s),
// then the worker directory is removed. It returns as soon as the
// processes are gone, without waiting out the grace. A worker already gone
// is not an error.
func (p *Provider) Destroy(ctx context.Context, resourceID string) error {
	dir, err := p.WorkerDir(resourceID)
	if err != nil {
		return fmt.Errorf("destroy worker: %w", err)
	}
	p.mu.Lock()
	if c, ok := p.destroying[resourceID]; ok {
		p.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return fmt.Errorf("destroy worker %s: %w", resourceID, ctx.Err())
		}
	}
	c := &destroyCall{done: make(chan struct{})}
	p.destroying[resourceID] = c
	child := p.children[resourceID]
	p.mu.Unlock()

	c.err = p.destroy(ctx, resourceID, dir, child)
	p.mu.Lock()
	delete(p.destroying, resourceID)
	p.mu.Unlock()
	close(c.done)
	return c.err
}

func (p *Provider) destroy(ctx context.Context, id, dir string, child *child) error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		procs, err := scan(p.cfg.Installation, id)
		if err != nil {
			return fmt.Errorf("destroy worker %s: %w", id, err)
		}
		if len(procs) == 0 && child.gone() {
			break
		}
		signal(procs, child, sig)
		wait := killGrace
		if sig == syscall.SIGKILL {
			wait = killWait
		}
		gone, err := p.waitGone(ctx, id, child, procs, wait)
		if err != nil {
			return fmt.Errorf("destroy worker %s: %w", id, err)
		}
		if gone {
			break
		}
		if sig == syscall.SIGKILL {
			return fmt.Errorf("destroy worker %s: processes still alive %s after SIGKILL", id, killWait)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("destroy worker %s: %w", id, err)
	}
	p.cfg.Logger.InfoContext(ctx, "worker process destroyed", "worker_id", id)
	return nil
}

// signal sends sig to each process and its group, and to the group of our
// child agent. The server's own group is never signaled.
func signal(procs []proc, child *child, sig syscall.Signal) {
	own := syscall.Getpgrp()
	groups := make(map[int]bool)
	if !child.gone() {
		groups[child.pid] = true // the agent leads its own group
	}
	for _, pr := range procs {
		groups[pr.pgid] = true
		_ = syscall.Kill(pr.pid, sig)
	}
	for g := range groups {
		if g > 1 && g != own {
			_ = syscall.Kill(-g, sig)
		}
	}
}

// waitGone polls until no process of worker id is live, none of the
// processes signaled (known) is either, and our child has been reaped, for
// at most d. It reports whether they are gone. (A process in the middle of
// exiting may show an empty environment, so the scan alone would miss it.)
func (p *Provider) waitGone(ctx context.Context, id string, child *child, known []proc, d time.Duration) (bool, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		procs, err := scan(p.cfg.Installation, id)
		if err != nil {
			return false, err
		}
		if len(procs) == 0 && child.gone() && !slices.ContainsFunc(known, func(pr proc) bool { _, live := readStat(pr.pid); return live }) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-tick.C:
		}
	}
}
