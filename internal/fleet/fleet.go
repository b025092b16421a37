package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/notify"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/store"
)

// ErrLimitReached is wrapped by Acquire's error while a limit keeps it
// from a worker: the tenant's, the provider's, the creations in flight or
// the creation rate.
var ErrLimitReached = errors.New("worker limit reached")

// WaitError is Acquire's error when its ctx ended while it waited for a
// worker: Err is ctx's error, Reason why it was waiting (a limit, a
// creation that failed). It matches both with errors.Is.
type WaitError struct {
	Err    error
	Reason error
}

func (e *WaitError) Error() string { return fmt.Sprintf("%v (%v)", e.Err, e.Reason) }

// Unwrap returns Err and Reason.
func (e *WaitError) Unwrap() []error { return []error{e.Err, e.Reason} }

// errCreateRate is wrapped with ErrLimitReached when Config.CreateRate
// holds a creation back.
var errCreateRate = errors.New("creation rate limit")

// capacityKey is notified when a worker ends or registers: a provider-wide
// limit may let a waiting step of any tenant go on.
const capacityKey = "capacity"

// LiveStates are the states of a worker that exists or is being made.
var LiveStates = store.LiveWorkerStates

// Backoff between creation attempts after a provider error: it doubles
// from the first to the last figure and stays there, until the step's
// lease timeout ends the wait (invariant 5: the step then fails with the
// provider's text).
const (
	createBackoffFirst = time.Second
	createBackoffMax   = 30 * time.Second
	// recheckPeriod bounds a wait for a wake-up from another server
	// (a release, a registration), in case that wake-up was lost.
	recheckPeriod = 5 * time.Second
)

// Fleet manages the workers of every tenant on one provider.
type Fleet struct {
	cfg      Config
	store    store.Store
	provider provider.Provider
	// started is when the reaper started: heartbeats are not expected
	// while the server was down.
	started time.Time
	// hub wakes Acquire calls waiting on a new worker ("worker/"+id: it
	// registered or was destroyed) or on a release of some tenant's worker
	// ("released/"+tenant).
	hub *notify.Hub

	// line orders the steps waiting for a limit (see line).
	line line
	// createRate paces creations (Config.CreateRate), createEvery is the
	// time between two tokens; nil when unlimited.
	createRate  *rate.Limiter
	createEvery time.Duration

	// standbyWake makes the reaper loop run Standby now (a standby
	// worker was leased and needs a replacement).
	standbyWake chan struct{}
	// reconcileSoon makes the reaper loop reconcile at its next tick: the
	// provider saw a machine end (provider.Watcher).
	reconcileSoon atomic.Bool
	standbyMu     sync.Mutex
	standbyRetry  map[string]standbyRetry // by standbyKey

	stopMu sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Fleet; call Start to run its reaper.
func New(cfg Config, st store.Store, p provider.Provider) (*Fleet, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("fleet config: %w", err)
	}
	cfg.Metrics.init(p.Name())
	f := &Fleet{cfg: cfg, store: st, provider: p, hub: cfg.Hub,
		standbyWake: make(chan struct{}, 1), standbyRetry: make(map[string]standbyRetry)}
	f.line = line{f: f}
	if cfg.CreateRate > 0 {
		// A burst of one second's worth of creations, at least one.
		f.createRate = rate.NewLimiter(rate.Limit(cfg.CreateRate), max(1, int(cfg.CreateRate)))
		f.createEvery = time.Duration(float64(time.Second) / cfg.CreateRate)
	}
	return f, nil
}

// Provider returns the provider workers are made with.
func (f *Fleet) Provider() provider.Provider { return f.provider }

// AcquireParams names what a step needs.
type AcquireParams struct {
	Tenant *store.Tenant
	PoolID string
	// Target says which image build the step needs now. Acquire asks it
	// again each time it looks for a worker, so a step that waits (for a
	// limit, a retry) follows a rebuild, a pool edit or an end of life that
	// comes meanwhile; its error ends the wait and is returned as is.
	Target func(ctx context.Context) (*Target, error)
	// OnCreate, if set, is called with the new worker when no idle one
	// could be leased and one is being made.
	OnCreate func(w *store.Worker)
	// OnStandby, if set, is called with the standby worker leased to the
	// tenant when it had no idle worker.
	OnStandby func(w *store.Worker)
	// OnWait, if set, is called with a sentence each time the reason
	// Acquire is waiting changes (a limit reached, a creation failed).
	OnWait func(reason string)
}

// Target is the image build a worker must be of, and how this fleet's
// provider makes one.
type Target struct {
	Image string
	Build string
	OS    string
	// Artifact is the build's artifact for the fleet's provider.
	Artifact string
	// Cache are the worker-tools images a new worker has cached
	// (provider.CreateParams.CacheImages).
	Cache []string
	// Static is set for a static pool: Image and Build are empty, and
	// Acquire leases one of the pool's registered machines or waits for
	// one, never creating a worker.
	Static bool
	// Capacity is how many steps of the tenant one worker runs at once
	// (the pool's capacity; 0 or 1: one).
	Capacity int
}

// Acquire returns a worker leased to p.Tenant, in state busy, for one
// step: a busy worker of the tenant's pool and build with a free place
// (Target.Capacity), else an idle one, else a standby
// worker of that build, else a new one. It waits (until ctx ends) for a
// new worker to register, and while a limit is reached (the tenant's,
// the provider's, the creations in flight or the creation rate), in the
// line of the tenant's pool, shared by the servers on the store (see
// line). Errors: ctx's error wrapped
// with the last reason for waiting (ErrLimitReached), or the provider's
// error when creation fails.
func (f *Fleet) Acquire(ctx context.Context, p *AcquireParams) (*store.Worker, error) {
	tenant := p.Tenant.ID
	queue := tenant + "/" + p.PoolID // the line is per tenant and pool
	var waitingFor error
	var spot *place
	defer func() {
		if spot != nil {
			f.line.leave(ctx, spot)
		}
	}()
	wait := func(d time.Duration, why error, wakes ...<-chan struct{}) error {
		if p.OnWait != nil && (waitingFor == nil || waitingFor.Error() != why.Error()) {
			p.OnWait(why.Error())
		}
		waitingFor = why
		timer := f.cfg.Clock.NewTimer(d)
		defer timer.Stop()
		wakes = append(wakes, nil, nil, nil)
		select {
		case <-wakes[0]:
		case <-wakes[1]:
		case <-wakes[2]:
		case <-timer.Chan():
		case <-ctx.Done():
			return &WaitError{Err: ctx.Err(), Reason: why}
		}
		return nil
	}
	// ended is what Acquire returns for err once ctx is done: the reason
	// it was waiting, rather than whichever store call the end cut short.
	ended := func(err error) error {
		if ctx.Err() != nil && waitingFor != nil {
			return &WaitError{Err: ctx.Err(), Reason: waitingFor}
		}
		return err
	}
	backoff := createBackoffFirst
	for {
		// Woken by a release of the tenant's worker or by capacity coming
		// back anywhere; the timer is a safety net for a wake-up lost
		// between servers.
		released, capacity := f.hub.Wait("released/"+tenant), f.hub.Wait(capacityKey)
		mayTry, turn, err := f.line.look(ctx, queue, &spot)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ended(err)
		case err != nil:
			// The store failed us: waited out like a provider error.
			why := fmt.Errorf("waiting line: %w; trying again in %s", err, backoff)
			if err := wait(backoff, why); err != nil {
				return nil, err
			}
			backoff = min(2*backoff, createBackoffMax)
			continue
		case !mayTry:
			why := waitingFor
			if why == nil {
				why = fmt.Errorf("%w: earlier steps of this tenant's pool wait for a worker first", ErrLimitReached)
			}
			if err := wait(recheckPeriod, why, released, capacity, turn); err != nil {
				return nil, err
			}
			continue
		}
		target, err := p.Target(ctx)
		if err != nil {
			return nil, ended(err)
		}
		w, err := f.tryAcquire(ctx, p, target)
		switch {
		case err == nil && w.State == api.WorkerBusy:
			return w, nil
		case err == nil:
			// The line is about the limits; waiting for registration is
			// this step's own business.
			if spot != nil {
				f.line.leave(ctx, spot)
				spot = nil
			}
			if w, err = f.claimWhenRegistered(ctx, w); err != nil || w != nil {
				return w, err
			}
			// Another step of the tenant leased the new worker first; it
			// is as good as ours was, so try again from the top.
		case errors.Is(err, ErrLimitReached), errors.Is(err, ErrNoStaticWorker):
			if spot == nil {
				var jerr error
				if spot, jerr = f.line.join(ctx, queue); jerr != nil && ctx.Err() == nil {
					// Not in the line this time: the next look joins it.
					f.cfg.Logger.WarnContext(ctx, "join the waiting line", "line", queue, "error", jerr)
				}
			}
			d := recheckPeriod
			if errors.Is(err, errCreateRate) {
				// Not longer than recheckPeriod: the place in the line is
				// renewed on each look (lineTTL).
				d = min(f.createEvery, recheckPeriod)
			}
			if err := wait(d, err, released, capacity, turn); err != nil {
				return nil, err
			}
		case ctx.Err() != nil:
			return nil, ended(err)
		default:
			why := fmt.Errorf("%w; trying again in %s", err, backoff)
			if err := wait(backoff, why); err != nil {
				return nil, err
			}
			backoff = min(2*backoff, createBackoffMax)
		}
	}
}

// tryAcquire leases an idle worker of p's tenant and pool and of target,
// or a standby worker of target, or creates one (provisioning; the caller
// waits for it to register).
func (f *Fleet) tryAcquire(ctx context.Context, p *AcquireParams, target *Target) (*store.Worker, error) {
	now := f.cfg.Clock.Now()
	params := &store.WorkerAcquireIdleParams{
		TenantID: p.Tenant.ID, PoolID: p.PoolID, Image: target.Image, Build: target.Build, Now: now,
		Capacity: target.Capacity,
	}
	if !target.Static {
		// A busy worker's DestroyAt is from its last idle spell: its max
		// lifetime is checked here.
		_, maxLife := f.Timeouts(p.Tenant)
		params.CreatedAfter = now.Add(-maxLife)
	}
	w, err := f.store.WorkerAcquireIdle(ctx, params)
	if err == nil {
		return w, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("lease idle worker: %w", err)
	}
	if target.Static {
		return nil, f.staticBusy(ctx, p.Tenant.ID, p.PoolID)
	}
	if w, err := f.leaseStandby(ctx, p, target); err != nil || w != nil {
		return w, err
	}
	w, err = f.create(ctx, p.Tenant, p.PoolID, target)
	if err != nil {
		return nil, err
	}
	if f.cfg.Standby != nil {
		f.cfg.Metrics.standbyLease(false)
	}
	if p.OnCreate != nil {
		p.OnCreate(w)
	}
	return w, nil
}

// create writes the row of a worker of tenant's pool (a standby worker
// when tenant is nil), then starts its machine (invariant 3: the row is
// durable before the provider acts, so a crash leaves no resource the
// store does not know).
func (f *Fleet) create(ctx context.Context, tenant *store.Tenant, poolID string, target *Target) (*store.Worker, error) {
	if f.createRate != nil && !f.createRate.AllowN(f.cfg.Clock.Now(), 1) {
		return nil, fmt.Errorf("%w: %w of %g per second", ErrLimitReached, errCreateRate, f.cfg.CreateRate)
	}
	w, token, err := f.record(ctx, tenant, poolID, target)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, f.cfg.CreateTimeout)
	res, err := f.provider.Create(cctx, &provider.CreateParams{
		WorkerID: w.ID, TenantID: w.TenantID, Image: target.Image, OS: target.OS, Artifact: target.Artifact,
		ServerURL: f.cfg.ServerURL, ServerFingerprint: f.cfg.ServerFingerprint, RegistrationToken: token, CacheImages: target.Cache,
		Labels: map[string]string{
			provider.LabelInstallation: f.cfg.Installation,
			provider.LabelWorker:       w.ID,
			provider.LabelTenant:       w.TenantID,
		},
	})
	cancel()
	// The machine exists now (or may, after an error): what follows is
	// recorded even if the step stopped waiting meanwhile.
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "worker creation failed", "worker_id", w.ID, "tenant_id", w.TenantID, "error", err)
		f.cfg.Metrics.creationFailed(f.provider.Name())
		return nil, errors.Join(
			fmt.Errorf("create worker %s with provider %s: %w", w.ID, f.provider.Name(), err),
			f.finish(ctx, w, api.WorkerDestroyed, api.DestroyCreateFailed))
	}
	w, err = f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{ID: w.ID, ResourceID: &res.ID})
	if err != nil {
		return nil, fmt.Errorf("record worker resource: %w", err)
	}
	// The agent's registration timeout runs from the machine's start, not
	// from before a creation that may have pulled images for minutes;
	// unless the agent registered already (it then set its own due time).
	registerBy := f.cfg.Clock.Now().Add(f.cfg.RegistrationTimeout)
	due, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerProvisioning}, DestroyAt: &registerBy,
	})
	switch {
	case err == nil:
		w = due
	case !errors.Is(err, store.ErrConflict):
		return nil, fmt.Errorf("record worker registration deadline: %w", err)
	}
	f.cfg.Logger.InfoContext(ctx, "worker created", "worker_id", w.ID, "tenant_id", w.TenantID,
		"image", w.Image, "build", w.Build, "resource_id", res.ID)
	return w, nil
}

// record writes the row of a new worker of tenant's pool (a standby worker
// of no tenant when tenant is nil), provisioning, with a hashed one-time
// registration token (returned), unless the tenant holds its maximum of
// live workers (ErrLimitReached). The store checks the limit in the same
// transaction, so it holds across replicas.
func (f *Fleet) record(ctx context.Context, tenant *store.Tenant, poolID string, target *Target) (*store.Worker, string, error) {
	t, pool := &store.Tenant{}, &store.Pool{} // a standby worker: no tenant, no pool, no limit
	if tenant != nil {
		var err error
		if t, pool, err = f.limitsOf(ctx, tenant.ID, poolID); err != nil {
			return nil, "", err
		}
	}
	now := f.cfg.Clock.Now()
	token := id.Secret("dpr")
	// Due once the creation timeout and then the registration timeout have
	// passed, should this server die before it knows how creation went.
	registerBy := now.Add(f.cfg.CreateTimeout + f.cfg.RegistrationTimeout)
	w := &store.Worker{
		ID: id.New("w"), TenantID: t.ID, PoolID: poolID,
		Image: target.Image, Build: target.Build, Provider: f.provider.Name(),
		State: api.WorkerProvisioning, RegistrationHash: id.Hash(token),
		CreatedAt: now, DestroyAt: &registerBy,
	}
	if tenant != nil {
		w.LeasedAt = &now
	}
	err := f.store.WorkerCreate(ctx, w, store.WorkerLimits{
		Tenant: t.MaxWorkers, Pool: pool.MaxWorkers, Provider: f.cfg.MaxWorkers, Provisioning: f.cfg.MaxCreating,
	})
	if le := (*store.LimitError)(nil); errors.As(err, &le) {
		reached := f.limitReached(t, pool, le)
		if tenant != nil { // a standby creation evicts nobody
			if evicted := f.evict(ctx, t, pool, target, le); evicted != "" {
				reached = fmt.Errorf("%w; %s", reached, evicted)
			}
		}
		return nil, "", reached
	}
	if err != nil {
		return nil, "", fmt.Errorf("record worker: %w", err)
	}
	return w, token, nil
}

// limitsOf reads tenant tenantID and its pool poolID afresh: their
// limits may have changed while a step waited.
func (f *Fleet) limitsOf(ctx context.Context, tenantID, poolID string) (*store.Tenant, *store.Pool, error) {
	t, err := f.store.TenantGet(ctx, tenantID)
	if err != nil {
		return nil, nil, fmt.Errorf("get tenant %s: %w", tenantID, err)
	}
	pool, err := f.store.PoolGet(ctx, tenantID, poolID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted meanwhile: the step's target fails it; no pool limit.
		return t, &store.Pool{ID: poolID, TenantID: tenantID, Name: poolID}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get pool %s: %w", poolID, err)
	}
	return t, pool, nil
}

// limitReached says, wrapping ErrLimitReached, which limit refused a
// worker of tenant t's pool.
func (f *Fleet) limitReached(t *store.Tenant, pool *store.Pool, le *store.LimitError) error {
	prov := f.provider.Name()
	switch le.Scope {
	case store.LimitTenant:
		return fmt.Errorf("%w: tenant %s holds its maximum of %s", ErrLimitReached, t.Name, workers(le.Max))
	case store.LimitPool:
		return fmt.Errorf("%w: pool %s holds its maximum of %s", ErrLimitReached, pool.Name, workers(le.Max))
	case store.LimitProvider:
		return fmt.Errorf("%w: the %s provider holds its maximum of %s", ErrLimitReached, prov, workers(le.Max))
	case store.LimitProvisioning:
		return fmt.Errorf("%w: the %s provider is creating %s, the most at once", ErrLimitReached, prov, workers(le.Max))
	}
	return fmt.Errorf("%w: %v", ErrLimitReached, le)
}

// workers says "1 worker" or "n workers".
func workers(n int) string {
	if n == 1 {
		return "1 worker"
	}
	return fmt.Sprintf("%d workers", n)
}

// claimWhenRegistered waits for w's agent to register and leases w. It
// returns (nil, nil) when another acquirer leased w first.
func (f *Fleet) claimWhenRegistered(ctx context.Context, w *store.Worker) (*store.Worker, error) {
	// A store call that ctx cut short says why it was waiting.
	waiting := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while waiting for worker %s to register", ctx.Err(), w.ID)
		}
		return err
	}
	for {
		changed := f.hub.Wait("worker/" + w.ID)
		claimed, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
			ID: w.ID, FromStates: []string{api.WorkerIdle}, State: api.WorkerBusy,
		})
		if err == nil {
			return claimed, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, waiting(fmt.Errorf("lease new worker %s: %w", w.ID, err))
		}
		cur, err := f.store.WorkerGet(ctx, w.ID)
		if err != nil {
			return nil, waiting(fmt.Errorf("get new worker %s: %w", w.ID, err))
		}
		switch cur.State {
		case api.WorkerProvisioning:
		case api.WorkerIdle:
			continue // registered between our claim and our look
		case api.WorkerBusy, api.WorkerDraining:
			return nil, nil
		default:
			return nil, fmt.Errorf("worker %s did not start: it is %s (%s)", w.ID, cur.State, cur.DestroyReason)
		}
		recheck := f.cfg.Clock.NewTimer(recheckPeriod)
		select {
		case <-changed:
		case <-recheck.Chan():
		case <-ctx.Done():
			recheck.Stop()
			return nil, fmt.Errorf("%w while waiting for worker %s to register", ctx.Err(), w.ID)
		}
		recheck.Stop()
	}
}

// Release ends one step of w. A worker still running other steps of its
// tenant (a pool of capacity > 1) keeps running them, with a place free.
// Else the worker becomes idle, due for destruction at the earlier of its
// idle timeout and its max lifetime; a worker already at its max
// lifetime, or one [Config.Retire] retires, is destroyed now. A static
// worker just becomes idle: no timeout applies.
func (f *Fleet) Release(ctx context.Context, w *store.Worker) error {
	if isStatic(w) {
		return f.releaseStatic(ctx, w)
	}
	for {
		_, err := f.store.WorkerReleaseLease(ctx, w.ID)
		if err == nil {
			f.hub.Notify("released/" + w.TenantID)
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("release worker %s: %w", w.ID, err)
		}
		err = f.releaseLast(ctx, w)
		if !errors.Is(err, errLeasedMeanwhile) {
			return err
		}
	}
}

// errLeasedMeanwhile says another step leased a worker while its last
// step was being released: the release starts again.
var errLeasedMeanwhile = errors.New("leased by another step meanwhile")

// releaseLast ends the last step of busy worker w (see Release), or
// returns errLeasedMeanwhile.
func (f *Fleet) releaseLast(ctx context.Context, w *store.Worker) error {
	t, err := f.store.TenantGet(ctx, w.TenantID)
	if err != nil {
		return fmt.Errorf("release worker %s: %w", w.ID, err)
	}
	now := f.cfg.Clock.Now()
	idle, maxLife := f.Timeouts(t)
	end := w.CreatedAt.Add(maxLife)
	last := &store.WorkerUpdateParams{ID: w.ID, FromStates: []string{api.WorkerBusy}, LastLease: true}
	reason, err := f.cfg.Retire(ctx, w)
	if err != nil {
		return fmt.Errorf("release worker %s: %w", w.ID, err)
	}
	if !now.Before(end) {
		reason = api.DestroyMaxLifetime
	}
	if reason != "" {
		f.cfg.Logger.InfoContext(ctx, "destroying worker after its last step", "worker_id", w.ID, "tenant_id", w.TenantID, "reason", reason)
		done, err := f.destroyGuarded(ctx, last, reason)
		if err == nil && !done {
			err = f.leasedMeanwhile(ctx, w.ID, nil)
		}
		return err
	}
	destroyAt := earliest(now.Add(idle), end)
	last.State, last.LastUsedAt, last.DestroyAt = api.WorkerIdle, &now, &destroyAt
	if _, err = f.store.WorkerUpdate(ctx, last); err != nil {
		return f.leasedMeanwhile(ctx, w.ID, fmt.Errorf("release worker %s: %w", w.ID, err))
	}
	f.hub.Notify("released/" + w.TenantID)
	if f.cfg.MaxWorkers > 0 {
		// An idle worker another tenant's step may evict under the limit.
		f.hub.Notify(capacityKey)
	}
	return nil
}

// leasedMeanwhile returns errLeasedMeanwhile when worker id is busy with
// more than one lease (another step leased it while its last was being
// released), else fallback: the worker left busy some other way, and
// there is nothing more to release.
func (f *Fleet) leasedMeanwhile(ctx context.Context, id string, fallback error) error {
	cur, err := f.store.WorkerGet(ctx, id)
	if err != nil {
		return fmt.Errorf("release worker %s: %w", id, err)
	}
	if cur.State == api.WorkerBusy && cur.Leases > 1 {
		return errLeasedMeanwhile
	}
	return fallback
}

// Timeouts returns the idle timeout and max lifetime that apply to t:
// its overrides, else the server defaults.
func (f *Fleet) Timeouts(t *store.Tenant) (idle, maxLifetime time.Duration) {
	return override(t.IdleTimeout, f.cfg.IdleTimeout), override(t.MaxLifetime, f.cfg.MaxLifetime)
}

// override returns d when it is set (> 0), else the default def.
func override(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// TenantChanged recomputes when t's idle workers are due, after an
// operator changed its overrides, and wakes its waiting steps (a raised
// worker limit may let them go on).
func (f *Fleet) TenantChanged(ctx context.Context, t *store.Tenant) error {
	idle, maxLife := f.Timeouts(t)
	ws, err := f.store.WorkerList(ctx, &store.WorkerListParams{TenantID: t.ID, States: []string{api.WorkerIdle}})
	if err != nil {
		return fmt.Errorf("list idle workers of tenant %s: %w", t.ID, err)
	}
	for _, w := range ws {
		if isStatic(w) {
			continue // no idle timeout or max lifetime
		}
		lastUsed := w.CreatedAt
		if w.LastUsedAt != nil {
			lastUsed = *w.LastUsedAt
		}
		at := earliest(lastUsed.Add(idle), w.CreatedAt.Add(maxLife))
		_, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
			ID: w.ID, FromStates: []string{api.WorkerIdle}, DestroyAt: &at,
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("update worker %s: %w", w.ID, err)
		}
	}
	f.hub.Notify("released/" + t.ID)
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
