package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dynpool/dynpool/api"
)

// errWorkerGone is the cause that stops the agent when the server no
// longer knows its worker.
var errWorkerGone = errors.New("the server no longer knows this worker")

// gone marks err as errWorkerGone when it is an answer that means the
// worker was destroyed or its credential revoked: 401 and 403 on any call,
// 404 on the worker-level calls (register, heartbeat, job poll), where it
// can only mean the worker itself is unknown.
func gone(err error, notFoundToo bool) error {
	if hasStatus(err, http.StatusUnauthorized, http.StatusForbidden) ||
		(notFoundToo && hasStatus(err, http.StatusNotFound)) {
		return fmt.Errorf("%w: %w", errWorkerGone, err)
	}
	return err
}

// agent is one registered worker's agent.
type agent struct {
	cfg      Config
	client   *client
	logger   *slog.Logger
	workerID string
	runner   Runner
	// containers runs the jobs that have an execution container.
	containers Runner

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc // job id → cancel
	// stopCheck stops the health check that runs now, nil when none
	// does: a job that arrives stops it (see track).
	stopCheck context.CancelCauseFunc
	// checkDone is closed when the health check that runs now has ended
	// (its processes gone), nil when none runs.
	checkDone chan struct{}
	// checkKey is the key (api.HealthCheck.Key) of the check that runs
	// now.
	checkKey string

	// health is the static pool's health check (see health.go).
	health healthState
}

// Run registers the worker with cfg.ServerURL (unless cfg.Credential holds
// the credential of an earlier registration) and then runs jobs until the
// server says the worker is gone (401 or 403 on any call, 404 on a
// worker-level call) or ctx is done; in both cases it returns nil. It
// returns an error when cfg is invalid, when the server answers 400 or
// another unexpected 4xx (a bug on one side), or when a call's retryable
// failures last cfg.ServerUnreachableTimeout.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("run agent: %w", err)
	}
	c := &client{
		base:         cfg.ServerURL,
		http:         cfg.HTTPClient,
		token:        cfg.Token,
		giveUpAfter:  cfg.ServerUnreachableTimeout,
		firstBackoff: firstBackoff,
		maxBackoff:   maxBackoff,
		logger:       cfg.Logger,
	}
	var (
		reg      *api.RegisterResponse
		interval time.Duration
		err      error
	)
	if cfg.Credential != nil {
		reg, interval, err = cfg.Credential.registered()
	} else {
		reg, interval, err = c.register(ctx)
	}
	if err != nil {
		return stopped(ctx, cfg.Logger, gone(err, true))
	}
	c.token = reg.Credential
	logger := cfg.Logger.With("worker_id", reg.WorkerID)
	logger.InfoContext(ctx, "agent registered", "heartbeat_interval", interval)
	runner := cfg.Runner
	if runner == nil {
		runner = &ProcessRunner{WorkerID: reg.WorkerID}
	}
	a := &agent{
		cfg:        cfg,
		client:     c,
		logger:     logger,
		workerID:   reg.WorkerID,
		runner:     runner,
		containers: &containerRunner{workerID: reg.WorkerID, client: c, fingerprint: cfg.ServerFingerprint},
		running:    make(map[string]context.CancelCauseFunc),
		health:     healthState{wake: make(chan struct{}, 1)},
	}

	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	wg.Go(func() { a.heartbeats(runCtx, stop, interval) })
	wg.Go(func() { a.healthChecks(runCtx) })
	stop(a.loop(runCtx))
	wg.Wait()
	return stopped(ctx, logger, context.Cause(runCtx))
}

// stopped turns the reason the agent stopped into Run's result.
func stopped(ctx context.Context, logger *slog.Logger, cause error) error {
	switch {
	case errors.Is(cause, errWorkerGone):
		logger.InfoContext(ctx, "agent stopping: worker is gone", "reason", cause)
		return nil
	case ctx.Err() != nil:
		logger.InfoContext(ctx, "agent stopping", "reason", context.Cause(ctx))
		return nil
	default:
		return fmt.Errorf("run agent: %w", cause)
	}
}

// loop takes jobs and runs each in a goroutine of its own until an error
// stops it (a job's, or the poll's). The server hands a worker as many
// jobs at once as its pool's capacity lets (one by default); each poll
// names the jobs running here, so the server hands a job again only when
// the answer that handed it was lost. Jobs still running when the loop
// stops are canceled and waited for.
func (a *agent) loop(ctx context.Context) error {
	ctx, stop := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop(nil)
		wg.Wait()
	}()
	for {
		job, err := a.client.nextJob(ctx, a.cfg.PollWait, a.runningJobs())
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err != nil {
			return gone(err, true)
		}
		if job == nil {
			continue
		}
		jobCtx, cancel := a.track(ctx, job)
		wg.Go(func() {
			if err := a.runJob(ctx, job, jobCtx, cancel); err != nil {
				stop(err)
			}
		})
	}
}

// heartbeats calls heartbeat every interval (from then on, the interval
// the last answer gave), reports the outcome of a health check that ended
// since the last one, takes the pool's health check from the answer and
// cancels the jobs the server lists; a failed heartbeat stops the agent
// through stop.
func (a *agent) heartbeats(ctx context.Context, stop context.CancelCauseFunc, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		checked := a.health.take()
		resp, err := a.client.heartbeat(ctx, api.HeartbeatRequest{RunningJobs: a.runningJobs(), AgentVersion: Version(), HealthCheck: checked})
		if err != nil {
			stop(gone(err, true))
			return
		}
		a.setHealthCheck(resp.HealthCheck)
		// A static pool's machine policy may change after registration.
		if d, err := time.ParseDuration(resp.HeartbeatInterval); err == nil && d > 0 && d != interval {
			a.logger.InfoContext(ctx, "heartbeat interval changed", "from", interval, "to", d)
			interval = d
			t.Reset(interval)
		}
		for _, id := range resp.CancelJobs {
			a.cancelJob(ctx, id, "heartbeat")
		}
	}
}

// runningJobs returns the ids of the jobs running here, sorted.
func (a *agent) runningJobs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.running))
}

// cancelJob stops job id if it is running here.
func (a *agent) cancelJob(ctx context.Context, id, source string) {
	a.mu.Lock()
	cancel, ok := a.running[id]
	a.mu.Unlock()
	if ok {
		a.logger.InfoContext(ctx, "canceling job", "job_id", id, "source", source)
		cancel(errJobCanceled)
	}
}
