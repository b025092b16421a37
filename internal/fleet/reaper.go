package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/store"
)

// Start runs the reaper until Stop. It reconciles once at once, so a
// restarted server cleans up what the last one left.
func (f *Fleet) Start(ctx context.Context) error {
	f.stopMu.Lock()
	defer f.stopMu.Unlock()
	if f.cancel != nil {
		return errors.New("fleet already started")
	}
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f.done = make(chan struct{})
	f.started = f.cfg.Clock.Now()
	var loops sync.WaitGroup
	loops.Go(func() { f.loop(ctx) })
	// Standby creations may take long (a pull, a cloud machine): they
	// must not hold the reaper back.
	loops.Go(func() { f.standbyLoop(ctx) })
	if w, ok := f.provider.(provider.Watcher); ok {
		loops.Go(func() { w.Watch(ctx, func() { f.reconcileSoon.Store(true) }) })
	}
	go func() {
		loops.Wait()
		close(f.done)
	}()
	return nil
}

// Stop ends the reaper and waits for it. Workers and leases stay as they
// are for the next start.
func (f *Fleet) Stop() {
	f.stopMu.Lock()
	defer f.stopMu.Unlock()
	if f.cancel == nil {
		return
	}
	f.cancel()
	<-f.done
	f.cancel = nil
}

func (f *Fleet) loop(ctx context.Context) {
	ticker := f.cfg.Clock.NewTicker(f.cfg.ReaperPeriod)
	defer ticker.Stop()
	var lastReconcile time.Time
	for {
		// Reap first: a worker due for destruction is destroyed for its
		// timeout, not reported lost because nobody used it.
		if err := f.Reap(ctx); err != nil {
			f.cfg.Logger.ErrorContext(ctx, "reap failed", "error", err)
		}
		now := f.cfg.Clock.Now()
		due := now.Sub(lastReconcile) >= f.cfg.ReconcilePeriod
		if f.reconcileSoon.Swap(false) && !due {
			// The provider saw a machine end (provider.Watcher).
			if err := f.Reconcile(ctx); err != nil {
				f.cfg.Logger.ErrorContext(ctx, "reconcile failed", "error", err)
			}
		}
		if due {
			if err := f.Reconcile(ctx); err != nil {
				f.cfg.Logger.ErrorContext(ctx, "reconcile failed", "error", err)
			}
			// Images age by the day and the catalog changes rarely: the
			// reconcile period is often enough to recycle.
			if err := f.Recycle(ctx); err != nil {
				f.cfg.Logger.ErrorContext(ctx, "recycle failed", "error", err)
			}
			lastReconcile = now
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.Chan():
		}
	}
}

// standbyLoop runs Standby every reaper period and when a standby worker
// was leased, until ctx ends.
func (f *Fleet) standbyLoop(ctx context.Context) {
	ticker := f.cfg.Clock.NewTicker(f.cfg.ReaperPeriod)
	defer ticker.Stop()
	for {
		if err := f.Standby(ctx); err != nil && ctx.Err() == nil {
			f.cfg.Logger.ErrorContext(ctx, "standby failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.Chan():
		case <-f.standbyWake:
		}
	}
}

// Reap destroys every worker whose destroy_at has passed: idle ones
// (idle timeout or max lifetime), provisioning ones that did not register
// in time, and destroying ones whose earlier destroy failed.
func (f *Fleet) Reap(ctx context.Context) error {
	now := f.cfg.Clock.Now()
	expired, err := f.store.WorkerListExpired(ctx, now, api.WorkerIdle, api.WorkerProvisioning, api.WorkerDestroying)
	if err != nil {
		return fmt.Errorf("list expired workers: %w", err)
	}
	var errs []error
	for _, w := range expired {
		var err error
		switch w.State {
		case api.WorkerIdle:
			reason := api.DestroyIdleTimeout
			if isStandby(w) {
				reason = api.DestroyMaxLifetime // standby workers have no idle timeout
			} else if t, terr := f.store.TenantGet(ctx, w.TenantID); terr == nil {
				if _, maxLife := f.Timeouts(t); !now.Before(w.CreatedAt.Add(maxLife)) {
					reason = api.DestroyMaxLifetime
				}
			}
			err = f.destroy(ctx, w, []string{api.WorkerIdle}, reason)
		case api.WorkerProvisioning:
			f.cfg.Logger.WarnContext(ctx, "worker did not register in time", "worker_id", w.ID,
				"registration_timeout", f.cfg.RegistrationTimeout.String())
			err = f.destroy(ctx, w, []string{api.WorkerProvisioning}, api.DestroyRegistration)
		case api.WorkerDestroying:
			final := api.WorkerDestroyed
			if w.DestroyReason == api.DestroyWorkerLost {
				final = api.WorkerLost
			}
			err = f.finish(ctx, w, final, w.DestroyReason)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Reconcile compares the provider's resources with the store: a resource
// of no live worker is an orphan and destroyed; a live worker whose
// resource is gone, or whose agent has been silent for the heartbeat
// timeout, is lost; a static worker whose agent is silent that long is
// unavailable instead (see checkStatic).
func (f *Fleet) Reconcile(ctx context.Context) error {
	// The store is read before the provider, so a worker live in the store
	// whose resource is missing from the list is really gone; a resource
	// of a worker the store did not know then is looked up again before it
	// is called an orphan, since it may have been created in between.
	live, err := f.store.WorkerList(ctx, &store.WorkerListParams{States: LiveStates})
	if err != nil {
		return fmt.Errorf("list live workers: %w", err)
	}
	resources, err := f.provider.List(ctx)
	if err != nil {
		return fmt.Errorf("list %s resources: %w", f.provider.Name(), err)
	}
	byWorker := make(map[string]*store.Worker, len(live))
	for _, w := range live {
		byWorker[w.ID] = w
	}
	var errs []error
	present := make(map[string]bool, len(resources))
	for _, r := range resources {
		// A stopped machine of a live worker counts as gone: the worker
		// is lost, and marking it so destroys the machine.
		present[r.ID] = !r.Stopped
		if _, ok := byWorker[r.WorkerID()]; ok {
			continue
		}
		if err := f.destroyIfOrphan(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	now := f.cfg.Clock.Now()
	policies := &poolPolicies{f: f, pools: make(map[string]*store.Pool)}
	for _, w := range live {
		if isStatic(w) {
			// Never lost nor destroyed: unavailable until it heartbeats.
			if err := f.checkStatic(ctx, w, now, policies); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if reason := f.lostReason(w, present, now); reason != "" {
			if err := f.markLost(ctx, w, reason); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (f *Fleet) destroyIfOrphan(ctx context.Context, r *provider.Resource) error {
	w, err := f.store.WorkerGet(ctx, r.WorkerID())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("look up worker of resource %s: %w", r.ID, err)
	case slices.Contains(LiveStates, w.State):
		return nil
	}
	f.cfg.Logger.WarnContext(ctx, "destroying orphan resource", "resource_id", r.ID, "worker_id", r.WorkerID())
	if err := f.provider.Destroy(ctx, r.ID); err != nil {
		return fmt.Errorf("destroy orphan %s: %w", r.ID, err)
	}
	return nil
}

// lostReason says why w is lost, or "" when it is not.
func (f *Fleet) lostReason(w *store.Worker, present map[string]bool, now time.Time) string {
	switch w.State {
	case api.WorkerProvisioning, api.WorkerDestroying:
		return "" // the registration timeout and the reaper deal with these
	}
	if w.ResourceID != "" && !present[w.ResourceID] {
		return fmt.Sprintf("its %s resource %s is gone (the agent process or machine ended)", w.Provider, w.ResourceID)
	}
	if w.LastHeartbeatAt != nil {
		// Agents could not reach a stopped server: silence counts from
		// this start at the earliest.
		since := *w.LastHeartbeatAt
		if since.Before(f.started) {
			since = f.started
		}
		if now.Sub(since) > f.cfg.HeartbeatTimeout {
			return fmt.Sprintf("its agent sent no heartbeat for %s", now.Sub(*w.LastHeartbeatAt).Round(time.Second))
		}
	}
	return ""
}

func (f *Fleet) markLost(ctx context.Context, w *store.Worker, reason string) error {
	// Destroying with reason worker-lost: if the provider fails to end the
	// machine now, the reaper tries again and records it lost then.
	lost, now := api.DestroyWorkerLost, f.cfg.Clock.Now()
	w, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining},
		State: api.WorkerDestroying, DestroyReason: &lost, DestroyAt: &now,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark worker lost: %w", err)
	}
	f.cfg.Logger.WarnContext(ctx, "worker lost", "worker_id", w.ID, "tenant_id", w.TenantID, "reason", reason)
	f.cfg.OnLost(w, reason)
	return f.finish(ctx, w, api.WorkerLost, api.DestroyWorkerLost)
}
