package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dynpool/dynpool/api"
)

// The health check of a static pool (api.HealthCheck) reaches the agent
// in every heartbeat answer. The agent runs it with the job runner, in a
// directory of its own under the work dir, only while it runs no job: at
// once when the check is new or changed, then every Interval, each run
// stopped after Timeout. A job that arrives while the check runs stops
// the check (its processes are killed at once, and the job's script
// starts once they are gone) and the check's outcome is dropped: steps
// are not delayed beyond that; the check runs
// again as soon as the agent is idle. The outcome goes to the server with
// the next heartbeat.

// healthPoll is how often the agent looks whether a health check is due
// (a job may have ended, the interval passed). A check that is new or
// changed is started without waiting for it.
const healthPoll = time.Second

// healthTailLines is how many of the last output lines of a check its
// message keeps (then cut to api.MaxHealthMessage bytes).
const healthTailLines = 20

// errCheckPreempted stops a health check because a job arrived: its
// processes are killed at once (its outcome is dropped anyway), and the
// job's script starts once they are gone (see waitCheckStopped).
var errCheckPreempted = fmt.Errorf("a job arrived; %w", errKillAtOnce)

// errCheckReplaced stops a health check because the pool's check changed
// its script or syntax; its outcome is dropped.
var errCheckReplaced = fmt.Errorf("the pool's health check changed; %w", errKillAtOnce)

// healthState is the agent's health check: the one the server last sent,
// when it last ran, and the outcome not yet reported.
type healthState struct {
	mu      sync.Mutex
	check   *api.HealthCheck
	ranKey  string // check key (syntax and script) of the last run
	ranAt   time.Time
	pending *api.HealthCheckResult
	wake    chan struct{}
}

// checkKey identifies what a check runs (api.HealthCheck.Key), "" for
// none: a changed script or syntax runs at once.
func checkKey(hc *api.HealthCheck) string {
	if hc == nil {
		return ""
	}
	return hc.Key()
}

// set takes the health check of a heartbeat answer (nil: none), wakes
// the check loop when it is new or changed, and says whether what it
// runs changed (its key). An outcome of another check not yet reported
// is dropped; with no check, the last run is forgotten, so the same
// script added again runs at once.
func (h *healthState) set(hc *api.HealthCheck) (keyChanged bool) {
	h.mu.Lock()
	changed := hc != nil && (h.check == nil || *hc != *h.check)
	keyChanged = checkKey(hc) != checkKey(h.check)
	h.check = hc
	if hc == nil {
		h.ranKey, h.ranAt = "", time.Time{}
	}
	if h.pending != nil && h.pending.Key != checkKey(hc) {
		h.pending = nil
	}
	h.mu.Unlock()
	if changed {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return keyChanged
}

// due returns the check to run now with its interval and timeout, nil
// when none is due.
func (h *healthState) due(now time.Time) (*api.HealthCheck, time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hc := h.check
	if hc == nil {
		return nil, 0
	}
	interval, err1 := time.ParseDuration(hc.Interval)
	timeout, err2 := time.ParseDuration(hc.Timeout)
	if err1 != nil || err2 != nil || interval <= 0 || timeout <= 0 {
		return nil, 0 // the server fills both in; an older or broken one is not guessed at
	}
	if checkKey(hc) == h.ranKey && now.Sub(h.ranAt) < interval {
		return nil, 0
	}
	return hc, timeout
}

// ran records the outcome of check hc started at start, to be reported
// with the next heartbeat, unless the pool's check changed meanwhile.
func (h *healthState) ran(hc *api.HealthCheck, start time.Time, res *api.HealthCheckResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := checkKey(hc)
	if key != checkKey(h.check) {
		return
	}
	res.Key = key
	h.ranKey, h.ranAt, h.pending = key, start, res
}

// take returns the outcome not yet reported, once.
func (h *healthState) take() *api.HealthCheckResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	res := h.pending
	h.pending = nil
	return res
}

// setHealthCheck takes the health check of a heartbeat answer (see
// healthState.set) and kills a check that runs now when the pool's check
// changed what it runs: its outcome would say nothing any more.
func (a *agent) setHealthCheck(hc *api.HealthCheck) {
	if !a.health.set(hc) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopCheck != nil && a.checkKey != checkKey(hc) {
		a.stopCheck(errCheckReplaced)
	}
}

// healthChecks runs the health check whenever it is due and the agent
// runs no job, until ctx ends.
func (a *agent) healthChecks(ctx context.Context) {
	t := time.NewTicker(healthPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.health.wake:
		}
		if hc, timeout := a.health.due(time.Now()); hc != nil {
			a.runHealthCheck(ctx, hc, timeout)
		}
	}
}

// runHealthCheck runs hc unless a job runs, and records its outcome
// unless a job arrived meanwhile (see track) or the agent is stopping.
func (a *agent) runHealthCheck(ctx context.Context, hc *api.HealthCheck, timeout time.Duration) {
	checkCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	a.mu.Lock()
	if len(a.running) > 0 {
		a.mu.Unlock()
		return
	}
	done := make(chan struct{})
	a.stopCheck, a.checkDone, a.checkKey = cancel, done, checkKey(hc)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.stopCheck, a.checkDone, a.checkKey = nil, nil, ""
		a.mu.Unlock()
		close(done)
	}()

	start := time.Now()
	res := a.healthCheck(checkCtx, hc, timeout)
	if checkCtx.Err() != nil { // preempted by a job, or the agent stops
		a.logger.InfoContext(ctx, "health check stopped; it runs again when the agent is idle", "reason", context.Cause(checkCtx))
		return
	}
	a.logger.InfoContext(ctx, "health check ran", "status", res.Status, "took", time.Since(start).Round(time.Millisecond))
	a.health.ran(hc, start, res)
}

// waitCheckStopped waits, before a job's script starts, until a health
// check the job preempted (see track) has ended: its process group was
// killed at once, so this takes milliseconds. No check starts while a job
// runs, so a check running now is one the job stopped. It returns early
// when ctx ends.
func (a *agent) waitCheckStopped(ctx context.Context) {
	a.mu.Lock()
	done := a.checkDone
	a.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// healthCheck runs hc once, stopped after timeout, and returns its
// outcome (see healthOutcome).
func (a *agent) healthCheck(ctx context.Context, hc *api.HealthCheck, timeout time.Duration) *api.HealthCheckResult {
	dir, err := os.MkdirTemp(a.cfg.WorkDir, "health-check-*")
	if err != nil {
		return &api.HealthCheckResult{Status: api.HealthFailed, Message: fmt.Sprintf("make health-check directory: %v", err)}
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			a.logger.WarnContext(ctx, "remove health-check directory", "dir", dir, "error", err)
		}
	}()
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tail := &outputTail{}
	job := &api.Job{ID: "health-check", Step: "health check", Syntax: hc.Syntax, Script: hc.Script}
	code, runErr := a.runner.Run(runCtx, job, dir, tail.add)
	// Timed out: the runner stopped the script and not because ctx ended
	// (a job arrived, the agent stops); not a script that ended just
	// before the deadline while its output was still being read.
	timedOut := errors.Is(runErr, errStopped) && ctx.Err() == nil
	return healthOutcome(code, runErr, timedOut, timeout, tail)
}

// outputTail keeps the last healthTailLines lines of a check's output,
// and whether any line started with "WARNING:".
type outputTail struct {
	mu      sync.Mutex
	lines   []string
	warning bool
}

func (o *outputTail) add(_, line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if strings.HasPrefix(line, "WARNING:") {
		o.warning = true
	}
	if len(line) > api.MaxHealthMessage {
		line = line[:api.MaxHealthMessage]
	}
	o.lines = append(o.lines, line)
	if len(o.lines) > healthTailLines {
		o.lines = o.lines[len(o.lines)-healthTailLines:]
	}
}

// healthOutcome turns how a check ended into its outcome: exit code 0 is
// healthy (a warning when a line of its output started with "WARNING:"),
// api.HealthCheckWarningExitCode is a warning, anything else, a timeout
// or a script that could not run is a failure. The message is the
// output's last lines, after why it failed, at most api.MaxHealthMessage
// bytes (the end kept).
func healthOutcome(code int, runErr error, timedOut bool, timeout time.Duration, tail *outputTail) *api.HealthCheckResult {
	tail.mu.Lock()
	defer tail.mu.Unlock()
	var head, status string
	switch {
	case timedOut:
		status, head = api.HealthFailed, fmt.Sprintf("the health check did not end within its timeout of %s", timeout)
	case runErr != nil:
		status, head = api.HealthFailed, runErr.Error()
	case code == 0 && tail.warning, code == api.HealthCheckWarningExitCode:
		status = api.HealthWarning
	case code == 0:
		status = api.HealthHealthy
	default:
		status, head = api.HealthFailed, fmt.Sprintf("exit code %d", code)
	}
	// The reason stays whole; the output loses its oldest bytes.
	out := strings.Join(tail.lines, "\n")
	if head != "" && out != "" {
		head += "\n"
	}
	if room := max(api.MaxHealthMessage-len(head), 0); len(out) > room {
		out = strings.ToValidUTF8(out[len(out)-room:], "")
	}
	msg := head + out
	if len(msg) > api.MaxHealthMessage { // a reason longer than the bound
		msg = strings.ToValidUTF8(msg[:api.MaxHealthMessage], "")
	}
	return &api.HealthCheckResult{Status: status, Message: msg}
}
