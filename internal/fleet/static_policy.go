package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// Bounds of a static pool's machine policy. An agent heartbeats at least
// once a second and at most every 10 minutes; a worker is unavailable
// after at least two missed heartbeats (as Config.validate asks of the
// server-wide figures) and at most a day of silence.
const (
	MinHeartbeatInterval = time.Second
	MaxHeartbeatInterval = 10 * time.Minute
	MaxUnavailableAfter  = 24 * time.Hour
)

// ErrBadMachinePolicy is wrapped by CheckMachinePolicy's error.
var ErrBadMachinePolicy = errors.New("bad machine policy")

// MachinePolicy returns the heartbeat interval the agents of pool p are
// told to keep and how long one may be silent before its worker is
// unavailable: p's own figures, else the server's (Config.HeartbeatInterval
// and Config.HeartbeatTimeout, 5 s and 30 s by default). A silent worker is
// found within one reconcile period after that.
func (f *Fleet) MachinePolicy(p *store.Pool) (interval, unavailableAfter time.Duration) {
	return override(p.HeartbeatInterval, f.cfg.HeartbeatInterval), override(p.UnavailableAfter, f.cfg.HeartbeatTimeout)
}

// CheckMachinePolicy says what is wrong with static pool p's machine
// policy, wrapping ErrBadMachinePolicy; nil when it holds: the pool's own
// interval between MinHeartbeatInterval and MaxHeartbeatInterval, its own
// silence at most MaxUnavailableAfter, and the silence as it applies (the
// server's figure where the pool sets none) at least two intervals. The
// server's own figures are the operator's and not bounded here.
func (f *Fleet) CheckMachinePolicy(p *store.Pool) error {
	if p.HeartbeatInterval < 0 || p.UnavailableAfter < 0 {
		return fmt.Errorf("%w: durations must not be negative", ErrBadMachinePolicy)
	}
	if p.HeartbeatInterval > 0 && (p.HeartbeatInterval < MinHeartbeatInterval || p.HeartbeatInterval > MaxHeartbeatInterval) {
		return fmt.Errorf("%w: heartbeat interval %s is not between %s and %s", ErrBadMachinePolicy, p.HeartbeatInterval, MinHeartbeatInterval, MaxHeartbeatInterval)
	}
	if p.UnavailableAfter > MaxUnavailableAfter {
		return fmt.Errorf("%w: unavailable after %s is more than %s", ErrBadMachinePolicy, p.UnavailableAfter, MaxUnavailableAfter)
	}
	if interval, after := f.MachinePolicy(p); after < 2*interval {
		return fmt.Errorf("%w: unavailable after %s is less than two heartbeat intervals (%s)", ErrBadMachinePolicy, after, 2*interval)
	}
	return nil
}

// poolPolicies caches the machine policies of static pools for one
// reconcile pass.
type poolPolicies struct {
	f     *Fleet
	pools map[string]*store.Pool
}

// unavailableAfter returns the silence after which static worker w is
// unavailable: its pool's policy, or the server's default when the pool
// cannot be read.
func (pp *poolPolicies) unavailableAfter(ctx context.Context, w *store.Worker) time.Duration {
	p, ok := pp.pools[w.PoolID]
	if !ok {
		var err error
		p, err = pp.f.store.PoolGet(ctx, w.TenantID, w.PoolID)
		if err != nil {
			pp.f.cfg.Logger.WarnContext(ctx, "read machine policy; using the server's", "pool_id", w.PoolID, "error", err)
			p = &store.Pool{}
		}
		pp.pools[w.PoolID] = p
	}
	_, after := pp.f.MachinePolicy(p)
	return after
}

// SetDisabled disables static worker workerID of tenant tenantID (it takes
// no step, a running one ends normally, and it stays registered and keeps
// heartbeating) or enables it again, and returns it. ErrNotFound for an
// unknown worker or another tenant's, ErrNotStatic for one a provider
// made, ErrConflict for one that is gone.
func (f *Fleet) SetDisabled(ctx context.Context, tenantID, workerID string, disabled bool) (*store.Worker, error) {
	w, err := f.store.WorkerGet(ctx, workerID)
	if err != nil {
		return nil, fmt.Errorf("get worker %s: %w", workerID, err)
	}
	if w.TenantID != tenantID {
		return nil, fmt.Errorf("get worker %s: %w", workerID, store.ErrNotFound)
	}
	if !isStatic(w) {
		return nil, fmt.Errorf("disable worker %s: %w", workerID, ErrNotStatic)
	}
	w, err = f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining, api.WorkerUnavailable},
		Disabled: &disabled,
	})
	if err != nil {
		return nil, fmt.Errorf("disable worker %s: %w", workerID, err)
	}
	f.cfg.Logger.InfoContext(ctx, "static worker disabled or enabled", "worker_id", w.ID, "tenant_id", w.TenantID, "disabled", disabled)
	if !disabled {
		f.hub.Notify("released/" + w.TenantID) // a waiting step may take it
	}
	return w, nil
}
