package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/store"
)

// StandbyTarget is an image build the fleet keeps Count standby workers
// of: workers made ahead of demand that belong to no tenant until a step
// leases one, which binds it to that step's tenant for good.
type StandbyTarget struct {
	Target
	Count int
}

// standbyKey names the image build of a standby worker or target.
func standbyKey(image, build string) string { return image + "@" + build }

// leaseStandby leases an idle standby worker of target to p.Tenant, for
// good, younger than the tenant's max lifetime (invariant 4): (nil, nil)
// when there is none, or no standby workers are configured. ErrLimitReached while the tenant
// holds its maximum of live workers. A worker whose machine the provider
// could not hand to the tenant is destroyed, and the error returned.
func (f *Fleet) leaseStandby(ctx context.Context, p *AcquireParams, target *Target) (*store.Worker, error) {
	if f.cfg.Standby == nil {
		return nil, nil
	}
	t, pool, err := f.limitsOf(ctx, p.Tenant.ID, p.PoolID)
	if err != nil {
		return nil, err
	}
	now := f.cfg.Clock.Now()
	_, maxLife := f.Timeouts(t)
	w, err := f.store.WorkerLeaseStandby(ctx, &store.WorkerLeaseStandbyParams{
		TenantID: t.ID, PoolID: p.PoolID, Image: target.Image, Build: target.Build,
		Now: now, MaxLive: t.MaxWorkers, MaxPool: pool.MaxWorkers, CreatedAfter: now.Add(-maxLife),
	})
	var le *store.LimitError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case errors.As(err, &le):
		return nil, f.limitReached(t, pool, le)
	case err != nil:
		return nil, fmt.Errorf("lease standby worker: %w", err)
	}
	f.wakeStandby() // make its replacement
	if b, ok := f.provider.(provider.Binder); ok {
		if err := b.Bind(ctx, w.ResourceID, t.ID); err != nil {
			ctx := context.WithoutCancel(ctx)
			f.cfg.Logger.WarnContext(ctx, "standby worker could not be bound to its tenant", "worker_id", w.ID, "tenant_id", t.ID, "error", err)
			return nil, errors.Join(
				fmt.Errorf("bind standby worker %s to tenant %s: %w", w.ID, t.Name, err),
				f.destroy(ctx, w, []string{api.WorkerBusy}, api.DestroyCreateFailed))
		}
	}
	f.cfg.Metrics.standbyLease(true)
	if p.OnStandby != nil {
		p.OnStandby(w)
	}
	f.cfg.Logger.InfoContext(ctx, "standby worker leased", "worker_id", w.ID, "tenant_id", t.ID, "image", w.Image, "build", w.Build)
	return w, nil
}

// wakeStandby makes the reaper loop run Standby soon.
func (f *Fleet) wakeStandby() {
	select {
	case f.standbyWake <- struct{}{}:
	default:
	}
}

// Standby brings the standby workers to the counts [Config.Standby] asks
// for now (none when it is nil): it creates the missing ones (without waiting for them to
// register) and destroys idle ones beyond the counts or of image builds no
// longer asked for. A target whose creation failed is tried again after a
// backoff (from 1 s doubling to 30 s); the error is returned. The fleet's
// standby loop calls it every reaper period and at once after a standby
// worker is leased here.
func (f *Fleet) Standby(ctx context.Context) error {
	now := f.cfg.Clock.Now()
	var targets []StandbyTarget
	if f.cfg.Standby != nil { // else standby workers an earlier run made go
		var err error
		if targets, err = f.cfg.Standby(ctx, now); err != nil {
			return fmt.Errorf("standby targets: %w", err)
		}
	}
	live, err := f.store.WorkerList(ctx, &store.WorkerListParams{
		Standby: true, States: []string{api.WorkerProvisioning, api.WorkerIdle},
	})
	if err != nil {
		return fmt.Errorf("list standby workers: %w", err)
	}
	have := make(map[string][]*store.Worker)
	for _, w := range live {
		k := standbyKey(w.Image, w.Build)
		have[k] = append(have[k], w)
	}
	// Entries may resolve to one build (an alias and its target): their
	// counts add up.
	want := make(map[string]int)
	wanted := make(map[string]bool) // images with a count above zero
	var order []*Target
	for _, t := range targets {
		k := standbyKey(t.Image, t.Build)
		if _, seen := want[k]; !seen {
			order = append(order, &t.Target)
		}
		want[k] += t.Count
		if t.Count > 0 {
			wanted[t.Image] = true
		}
	}
	var errs []error
	for _, t := range order {
		k := standbyKey(t.Image, t.Build)
		if err := f.fillStandby(ctx, t, want[k]-len(have[k]), now); err != nil {
			errs = append(errs, err)
		}
	}
	for k, ws := range have {
		surplus := len(ws) - want[k]
		// The newest go first; leases take the oldest first, so the order
		// of the rest is unchanged.
		for i := len(ws) - 1; i >= 0 && surplus > 0; i-- {
			w := ws[i]
			if w.State != api.WorkerIdle {
				continue // a provisioning one is counted; it goes once idle
			}
			reason := api.DestroyStandbySurplus
			if want[k] == 0 && wanted[w.Image] {
				reason = api.DestroyImageRebuilt // another build of its image is wanted
			}
			f.cfg.Logger.InfoContext(ctx, "removing standby worker", "worker_id", w.ID, "image", w.Image, "build", w.Build, "reason", reason)
			if err := f.destroy(ctx, w, []string{api.WorkerIdle}, reason); err != nil && !errors.Is(err, store.ErrConflict) {
				errs = append(errs, err)
			}
			surplus--
		}
	}
	return errors.Join(errs...)
}

// fillStandby creates n standby workers of target, unless its last
// creation failed less than its backoff ago.
func (f *Fleet) fillStandby(ctx context.Context, target *Target, n int, now time.Time) error {
	k := standbyKey(target.Image, target.Build)
	f.standbyMu.Lock()
	retry, failed := f.standbyRetry[k]
	f.standbyMu.Unlock()
	if failed && now.Before(retry.at) {
		return nil
	}
	for range max(n, 0) {
		w, err := f.create(ctx, nil, "", target)
		if err != nil {
			backoff := createBackoffFirst
			if failed {
				backoff = min(2*retry.backoff, createBackoffMax)
			}
			f.standbyMu.Lock()
			f.standbyRetry[k] = standbyRetry{at: now.Add(backoff), backoff: backoff}
			f.standbyMu.Unlock()
			return fmt.Errorf("create standby worker of %s build %s (next try in %s): %w", target.Image, target.Build, backoff, err)
		}
		f.cfg.Logger.InfoContext(ctx, "standby worker created", "worker_id", w.ID, "image", w.Image, "build", w.Build)
	}
	f.standbyMu.Lock()
	delete(f.standbyRetry, k)
	f.standbyMu.Unlock()
	return nil
}

// standbyRetry is when a target whose creation failed is tried again.
type standbyRetry struct {
	at      time.Time
	backoff time.Duration
}

// isStandby reports whether w is a standby worker: of no tenant yet.
func isStandby(w *store.Worker) bool { return w.TenantID == "" }
