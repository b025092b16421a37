package task

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

// errLeaseTimeout ends a step's wait for a worker after the lease timeout.
var errLeaseTimeout = errors.New("leasing timeout")

func terminal(state string) bool {
	switch state {
	case api.StateSuccess, api.StateFailed, api.StateCanceled, api.StateSkipped:
		return true
	}
	return false
}

// runStep brings step s to an end and returns its final state, or "" when
// the server is stopping and the step must be resumed by the next start.
func (r *Runner) runStep(ctx context.Context, t *store.Task, s *store.Step) (string, error) {
	if terminal(s.State) {
		// Resumed after a restart; Start released its worker if need be.
		return s.State, nil
	}
	cur, err := r.store.TaskGet(ctx, "", t.ID)
	if err != nil {
		return "", fmt.Errorf("get task %s: %w", t.ID, err)
	}
	canceled := cur.State == api.StateCanceled
	var w *store.Worker
	if s.State == api.StateRunning && s.WorkerID != "" {
		if w, err = r.store.WorkerGet(ctx, s.WorkerID); err != nil {
			return "", fmt.Errorf("get worker of step %s: %w", s.ID, err)
		}
	}
	switch {
	case canceled:
		// Resumed after a restart, or reached the next step: a canceled
		// task starts nothing and winds down what runs.
		return r.interrupted(ctx, t, s, w)
	case w != nil:
		return r.await(ctx, t, s, w)
	}
	return r.execute(ctx, t, s)
}

// execute resolves the step's image, acquires a worker and waits for the
// step to end on it.
func (r *Runner) execute(ctx context.Context, t *store.Task, s *store.Step) (string, error) {
	target, err := r.resolveStep(ctx, t, s)
	var refused *cannotRun
	if errors.As(err, &refused) {
		return r.fail(ctx, s, "%s", refused.reason)
	}
	if err != nil {
		return "", err
	}
	pool, res := target.pool, target.res
	now := r.cfg.Clock.Now()
	s.State, s.StartedAt = api.StateRunning, &now
	if err := r.store.StepUpdate(ctx, s); err != nil {
		return "", fmt.Errorf("start step %s: %w", s.ID, err)
	}
	r.log(ctx, t.ID, s.Name, api.LevelInfo, "Step %q on pool %q: %s", s.Name, pool.Name, describe(res))
	for _, w := range warnings(res) {
		r.log(ctx, t.ID, s.Name, api.LevelWarning, "%s", w)
	}
	tenant, err := r.store.TenantGet(ctx, t.TenantID)
	if err != nil {
		return "", fmt.Errorf("get tenant of task %s: %w", t.ID, err)
	}
	r.log(ctx, t.ID, s.Name, api.LevelVerbose, "Leasing a worker from pool %q", pool.Name)
	// The lease timeout runs on the injected clock. (clockwork's own
	// WithTimeout is not used: its fake context's Err blocks until done.)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	leaseTimer := r.cfg.Clock.AfterFunc(r.cfg.LeaseTimeout, func() { cancel(errLeaseTimeout) })
	defer leaseTimer.Stop()
	doneWaiting := r.cfg.Metrics.waitStarted(tenant.ID)
	w, err := r.fleet.Acquire(actx, &fleet.AcquireParams{
		Tenant: tenant, PoolID: pool.ID,
		Target: func(ctx context.Context) (*fleet.Target, error) {
			t, err := r.resolveStep(ctx, t, s)
			if err != nil {
				return nil, err
			}
			target = t
			return t.fleet, nil
		},
		OnWait: func(reason string) {
			r.log(ctx, t.ID, s.Name, api.LevelWarning, "Waiting for a worker: %s", reason)
		},
		OnStandby: func(w *store.Worker) {
			r.log(ctx, t.ID, s.Name, api.LevelInfo, "No idle worker of this tenant has %s build %s: leasing standby worker %s, which now serves this tenant only",
				target.res.Image.Name, w.Build, w.ID)
		},
		OnCreate: func(w *store.Worker) {
			r.provisioning.Store(s.ID, w.ID)
			r.log(ctx, t.ID, s.Name, api.LevelInfo, "No idle worker of this tenant has %s build %s: creating worker %s with the %s provider",
				target.res.Image.Name, w.Build, w.ID, r.fleet.Provider().Name())
		},
	})
	doneWaiting()
	r.provisioning.Delete(s.ID)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return r.interrupted(ctx, t, s, nil)
		case errors.As(err, &refused):
			return r.fail(ctx, s, "%s", refused.reason) // something changed while it waited
		case errors.Is(context.Cause(actx), errLeaseTimeout):
			reason := err.Error()
			if we := (*fleet.WaitError)(nil); errors.As(err, &we) {
				reason = we.Reason.Error() // why it waited, not the context's end
			}
			return r.fail(ctx, s, "leasing timeout: no worker from pool %q within %s: %s", pool.Name, r.cfg.LeaseTimeout, reason)
		default:
			return r.fail(ctx, s, "could not get a worker from pool %q: %v", pool.Name, err)
		}
	}
	s.WorkerID = w.ID
	// Recorded even when the task was canceled meanwhile: the worker is
	// busy for this step now, and only the step leads back to it.
	if err := r.store.StepUpdate(context.WithoutCancel(ctx), s); err != nil {
		r.release(ctx, w)
		return "", fmt.Errorf("record worker of step %s: %w", s.ID, err)
	}
	waited := r.cfg.Clock.Since(now)
	r.cfg.Metrics.acquired(waited)
	r.log(ctx, t.ID, s.Name, api.LevelInfo, "Leased worker %s (%s) in %s",
		w.ID, leased(target.res, w), waited.Round(time.Millisecond))
	r.hub.Notify("job/" + w.ID)
	return r.await(ctx, t, s, w)
}

// describe says which image and build a resolution picked, e.g.
// "Ubuntu (default) → Ubuntu Server 22.04, build 2026.11.02".
// A static pool has no image: res is nil.
func describe(res *catalog.Resolution) string {
	if res == nil {
		return staticDescription
	}
	name := res.Image.Name
	if res.Alias != nil {
		name = res.Alias.Name + " → " + name
	}
	return fmt.Sprintf("%s, build %s", name, res.Build.Version)
}

// await waits until step s, leased to worker w, ends: its agent completes
// it, w is lost, or the task is canceled. A step whose worker is lost
// before any agent took it has not started: it gets another worker.
func (r *Runner) await(ctx context.Context, t *store.Task, s *store.Step, w *store.Worker) (string, error) {
	check := r.cfg.Clock.NewTicker(r.cfg.WorkerCheckPeriod)
	defer check.Stop()
	for {
		ended := r.hub.Wait("step/" + s.ID)
		cur, err := r.store.StepGet(context.WithoutCancel(ctx), s.ID)
		if err != nil {
			return "", fmt.Errorf("get step %s: %w", s.ID, err)
		}
		if terminal(cur.State) {
			*s = *cur // Complete released the worker; a lost one needs none
			return s.State, nil
		}
		gone, err := r.workerGone(ctx, w.ID)
		if err != nil {
			return "", err
		}
		if gone != "" {
			return r.workerLost(ctx, t, cur, gone)
		}
		select {
		case <-ended:
		case <-check.Chan():
			// A safety net behind the notifications: a cancel whose
			// wake-up was lost between servers is seen here.
			if cur, err := r.store.TaskGet(ctx, "", t.ID); err == nil && cur.State == api.StateCanceled {
				return r.interrupted(ctx, t, s, w)
			}
		case <-ctx.Done():
			return r.interrupted(ctx, t, s, w)
		}
	}
}

// workerGone says why worker id can no longer run a step ("" if it can).
// It backs the fleet's lost-worker callback, which a restart may miss.
func (r *Runner) workerGone(ctx context.Context, id string) (string, error) {
	w, err := r.store.WorkerGet(ctx, id)
	if err != nil {
		return "", fmt.Errorf("get worker %s: %w", id, err)
	}
	switch w.State {
	case api.WorkerBusy, api.WorkerDraining:
		return "", nil
	}
	return fmt.Sprintf("worker %s is %s (%s)", w.ID, w.State, w.DestroyReason), nil
}

// workerLost ends or restarts step s whose worker is gone: a step an agent
// took fails with the reason; one no agent took is run on another worker
// (invariant 3: a step that had not started is retried).
func (r *Runner) workerLost(ctx context.Context, t *store.Task, s *store.Step, why string) (string, error) {
	if s.DispatchedAt != nil {
		return r.fail(ctx, s, "worker lost: %s", why)
	}
	if !r.stillOwns(ctx, t.ID) {
		return "", nil // another server took the task over; it runs the step
	}
	r.log(ctx, t.ID, s.Name, api.LevelWarning, "The step had not started when its %s; getting another worker", why)
	s.WorkerID = ""
	return r.execute(ctx, t, s)
}

// release hands w back once its step has ended. A failure is logged, not
// returned: the step's end is recorded and must decide the task. A worker
// left destroying is finished by the reaper; one left busy is released at
// the next start.
func (r *Runner) release(ctx context.Context, w *store.Worker) {
	err := r.fleet.Release(context.WithoutCancel(ctx), w)
	if err != nil && !errors.Is(err, store.ErrConflict) { // conflict: lost or destroyed meanwhile
		r.cfg.Logger.ErrorContext(ctx, "release worker", "worker_id", w.ID, "error", err)
	}
}

// fail ends step s failed with a formatted reason and returns the state
// the step ended in (another path may have ended it first).
func (r *Runner) fail(ctx context.Context, s *store.Step, format string, args ...any) (string, error) {
	if err := r.failStep(ctx, s, fmt.Sprintf(format, args...)); err != nil {
		return "", err
	}
	return s.State, nil
}

// failStep writes running or queued step s failed with reason and wakes
// its waiter. A step that ended meanwhile keeps its end (s is refreshed).
func (r *Runner) failStep(ctx context.Context, s *store.Step, reason string) error {
	ctx = context.WithoutCancel(ctx)
	now := r.cfg.Clock.Now()
	failed := *s
	failed.State, failed.Error, failed.FinishedAt = api.StateFailed, reason, &now
	err := r.store.StepUpdate(ctx, &failed, api.StateQueued, api.StateRunning)
	if errors.Is(err, store.ErrConflict) {
		cur, err := r.store.StepGet(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("get step %s: %w", s.ID, err)
		}
		*s = *cur
		return nil
	}
	if err != nil {
		return fmt.Errorf("fail step %s: %w", s.ID, err)
	}
	*s = failed
	r.log(ctx, s.TaskID, s.Name, api.LevelError, "Step %q failed: %s", s.Name, reason)
	r.hub.Notify("step/" + s.ID)
	return nil
}
