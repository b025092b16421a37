package task

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

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
		// Resumed after a crash: the step ended but its worker may not have
		// been released yet.
		return s.State, r.releaseIfHeld(ctx, s)
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
	pool, err := r.store.PoolGet(ctx, t.TenantID, s.PoolID)
	if errors.Is(err, store.ErrNotFound) {
		return r.fail(ctx, s, "its pool %s was deleted after the task was queued", s.PoolID)
	}
	if err != nil {
		return "", fmt.Errorf("get pool of step %s: %w", s.ID, err)
	}
	now := r.cfg.Clock.Now()
	res, err := r.cfg.Catalog().Resolve(pool.Image, now)
	if err != nil {
		return r.fail(ctx, s, "pool %q: %v", pool.Name, err)
	}
	if err := res.Decommissioned(pool.Name); err != nil {
		return r.fail(ctx, s, "%v", err)
	}
	prov := r.fleet.Provider()
	if err := prov.Supports(res.Image.OS, res.Build.Artifacts); err != nil {
		return r.fail(ctx, s, "pool %q: %v", pool.Name, err)
	}
	s.State, s.StartedAt = api.StateRunning, &now
	if err := r.store.StepUpdate(ctx, s); err != nil {
		return "", fmt.Errorf("start step %s: %w", s.ID, err)
	}
	r.log(ctx, t.ID, s.Name, api.LevelInfo, "Step %q on pool %q: %s", s.Name, pool.Name, describe(res))
	for _, w := range res.Warnings() {
		r.log(ctx, t.ID, s.Name, api.LevelWarning, "%s", w)
	}
	tenant, err := r.store.TenantGet(ctx, t.TenantID)
	if err != nil {
		return "", fmt.Errorf("get tenant of task %s: %w", t.ID, err)
	}
	r.log(ctx, t.ID, s.Name, api.LevelVerbose, "Leasing a worker from pool %q", pool.Name)
	actx, cancel := clockwork.WithTimeout(ctx, r.cfg.Clock, r.cfg.LeaseTimeout)
	defer cancel()
	w, err := r.fleet.Acquire(actx, &fleet.AcquireParams{
		Tenant: tenant, PoolID: pool.ID, Image: res.Image.ID, Build: res.Build.Version,
		OS: res.Image.OS, Artifact: res.Build.Artifacts[prov.Name()],
		OnCreate: func(w *store.Worker) {
			r.provisioning.Store(s.ID, w.ID)
			r.log(ctx, t.ID, s.Name, api.LevelInfo, "No idle worker of this tenant has %s build %s: creating worker %s with the %s provider",
				res.Image.Name, res.Build.Version, w.ID, prov.Name())
		},
	})
	r.provisioning.Delete(s.ID)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return r.interrupted(ctx, t, s, nil)
		case errors.Is(err, context.DeadlineExceeded):
			return r.fail(ctx, s, "leasing timeout: no worker from pool %q within %s: %v", pool.Name, r.cfg.LeaseTimeout, err)
		default:
			return r.fail(ctx, s, "could not get a worker from pool %q: %v", pool.Name, err)
		}
	}
	s.WorkerID = w.ID
	if err := r.store.StepUpdate(ctx, s); err != nil {
		return "", fmt.Errorf("record worker of step %s: %w", s.ID, err)
	}
	r.log(ctx, t.ID, s.Name, api.LevelInfo, "Leased worker %s (%s, build %s) in %s",
		w.ID, res.Image.Name, w.Build, r.cfg.Clock.Since(now).Round(time.Millisecond))
	r.hub.Notify("job/" + w.ID)
	return r.await(ctx, t, s, w)
}

// describe says which image and build a resolution picked, e.g.
// "Ubuntu (default) → Ubuntu Server 22.04, build 2026.11.02".
func describe(res *catalog.Resolution) string {
	name := res.Image.Name
	if res.Alias != nil {
		name = res.Alias.Name + " → " + name
	}
	return fmt.Sprintf("%s, build %s", name, res.Build.Version)
}

// await waits until step s, leased to worker w, ends: its agent completes
// it, w is lost, or the task is canceled.
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
			*s = *cur
			return s.State, r.release(ctx, w)
		}
		select {
		case <-ended:
		case <-check.Chan():
			if err := r.checkWorker(ctx, t, cur, w.ID); err != nil {
				return "", err
			}
		case <-ctx.Done():
			return r.interrupted(ctx, t, s, w)
		}
	}
}

// checkWorker fails step s when its worker is no longer live, in case the
// fleet's lost-worker callback was missed (e.g. across a restart).
func (r *Runner) checkWorker(ctx context.Context, t *store.Task, s *store.Step, workerID string) error {
	w, err := r.store.WorkerGet(ctx, workerID)
	if err != nil {
		return fmt.Errorf("get worker %s: %w", workerID, err)
	}
	switch w.State {
	case api.WorkerBusy, api.WorkerDraining:
		return nil
	}
	return r.failStep(ctx, s, fmt.Sprintf("worker lost: worker %s is %s (%s)", w.ID, w.State, w.DestroyReason))
}

func (r *Runner) release(ctx context.Context, w *store.Worker) error {
	err := r.fleet.Release(context.WithoutCancel(ctx), w)
	if errors.Is(err, store.ErrConflict) {
		return nil // lost or destroyed meanwhile: nothing to release
	}
	return err
}

// releaseIfHeld releases the worker of an ended step when it is still busy
// with no other step.
func (r *Runner) releaseIfHeld(ctx context.Context, s *store.Step) error {
	if s.WorkerID == "" {
		return nil
	}
	w, err := r.store.WorkerGet(ctx, s.WorkerID)
	if err != nil || w.State != api.WorkerBusy {
		return nil //nolint:nilerr // a worker we cannot find holds nothing
	}
	others, err := r.store.StepListByWorker(ctx, w.ID, api.StateRunning)
	if err != nil {
		return fmt.Errorf("list steps of worker %s: %w", w.ID, err)
	}
	if len(others) > 0 {
		return nil
	}
	return r.release(ctx, w)
}

// fail ends step s failed with a formatted reason.
func (r *Runner) fail(ctx context.Context, s *store.Step, format string, args ...any) (string, error) {
	if err := r.failStep(ctx, s, fmt.Sprintf(format, args...)); err != nil {
		return "", err
	}
	return api.StateFailed, nil
}

// failStep writes step s failed with reason and wakes its waiter.
func (r *Runner) failStep(ctx context.Context, s *store.Step, reason string) error {
	now := r.cfg.Clock.Now()
	s.State, s.Error, s.FinishedAt = api.StateFailed, reason, &now
	if err := r.store.StepUpdate(context.WithoutCancel(ctx), s); err != nil {
		return fmt.Errorf("fail step %s: %w", s.ID, err)
	}
	r.log(ctx, s.TaskID, s.Name, api.LevelError, "Step %q failed: %s", s.Name, reason)
	r.hub.Notify("step/" + s.ID)
	return nil
}
