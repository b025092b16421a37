package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
)

// ErrNoStaticWorker is wrapped by tryAcquire's error while a static pool
// has no idle healthy worker: Acquire waits for one (a release, a
// registration, an agent heartbeating again) until its ctx ends, and
// never creates one.
var ErrNoStaticWorker = errors.New("no idle worker in static pool")

// ErrNotStatic is returned by DeleteStatic for a worker that a provider
// made: only static workers are deleted by their tenant.
var ErrNotStatic = errors.New("not a static worker")

// isStatic reports whether w is a machine its tenant registered into a
// static pool: no provider made it, so none destroys it, and no idle
// timeout or max lifetime applies.
func isStatic(w *store.Worker) bool { return w.Provider == store.ProviderStatic }

// RegisterStaticParams names the token a machine registers with and where.
type RegisterStaticParams struct {
	// Token is the pool's one-time registration token.
	Token string
	// Pool is the id or name of the static pool; it must be the pool the
	// token was made for.
	Pool string
	// Name is the machine's name, shown in the worker list.
	Name string
}

// RegisterStatic turns a static pool's registration token into a new
// worker of that pool, idle, the heartbeat interval of the pool's machine
// policy, and the worker's credential (returned once; only its hash is
// kept). The token is used up even when the pool does not match.
// ErrUnknownAgent when the token is unknown, used, expired, or made for
// another pool (of this tenant or another).
func (f *Fleet) RegisterStatic(ctx context.Context, p *RegisterStaticParams) (*store.Worker, time.Duration, string, error) {
	now := f.cfg.Clock.Now()
	tok, err := f.store.RegistrationTokenUse(ctx, id.Hash(p.Token), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, "", ErrUnknownAgent
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("use registration token: %w", err)
	}
	pool, err := f.store.PoolGet(ctx, tok.TenantID, tok.PoolID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, "", ErrUnknownAgent
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("get pool of registration token: %w", err)
	}
	if p.Pool != pool.ID && p.Pool != pool.Name || pool.Type != api.PoolTypeStatic {
		f.cfg.Logger.WarnContext(ctx, "registration token used for another pool", "tenant_id", tok.TenantID,
			"pool_id", pool.ID, "asked_pool", p.Pool)
		return nil, 0, "", ErrUnknownAgent
	}
	interval, _ := f.MachinePolicy(pool)
	credential := id.Secret("dpw")
	w := &store.Worker{
		ID: id.New("w"), Name: p.Name, TenantID: tok.TenantID, PoolID: pool.ID, Provider: store.ProviderStatic,
		State: api.WorkerIdle, CredentialHash: id.Hash(credential),
		CreatedAt: now, RegisteredAt: &now, LeasedAt: &now, LastHeartbeatAt: &now,
	}
	if err := f.store.WorkerCreate(ctx, w, store.WorkerLimits{}); err != nil {
		return nil, 0, "", fmt.Errorf("record static worker: %w", err)
	}
	f.cfg.Logger.InfoContext(ctx, "static worker registered", "worker_id", w.ID, "tenant_id", w.TenantID,
		"pool_id", w.PoolID, "name", w.Name)
	f.hub.Notify("released/" + w.TenantID)
	return w, interval, credential, nil
}

// staticBusy says why a step of static pool poolID finds no idle enabled
// worker whose health check did not fail, wrapping ErrNoStaticWorker:
// none registered or available, all busy, all disabled, all unhealthy
// (naming the latest failed check's last line), or disabled and
// unhealthy.
func (f *Fleet) staticBusy(ctx context.Context, tenantID, poolID string) error {
	name := poolID
	if pool, err := f.store.PoolGet(ctx, tenantID, poolID); err == nil {
		name = pool.Name
	}
	ws, err := f.store.WorkerList(ctx, &store.WorkerListParams{
		TenantID: tenantID, PoolID: poolID, States: []string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining},
	})
	if err != nil {
		return fmt.Errorf("list workers of static pool %s: %w", name, err)
	}
	if len(ws) == 0 {
		return fmt.Errorf("%w: static pool %s has no healthy worker", ErrNoStaticWorker, name)
	}
	var disabled, failed int
	var lastFailure string // the message of the latest failed check
	var lastAt time.Time
	for _, w := range ws {
		switch {
		case w.Disabled:
			disabled++
		case w.HealthStatus == api.HealthFailed:
			failed++
			if w.HealthCheckedAt != nil && !w.HealthCheckedAt.Before(lastAt) {
				lastFailure, lastAt = w.HealthMessage, *w.HealthCheckedAt
			}
		}
	}
	switch usable := len(ws) - disabled - failed; {
	case usable > 0:
		return fmt.Errorf("%w: all %s of static pool %s are busy", ErrNoStaticWorker, workers(usable), name)
	case failed == 0:
		return fmt.Errorf("%w: all %s of static pool %s are disabled", ErrNoStaticWorker, workers(len(ws)), name)
	case disabled == 0:
		return fmt.Errorf("%w: all %s of static pool %s are unhealthy: their health check failed%s",
			ErrNoStaticWorker, workers(len(ws)), name, lastLine(lastFailure))
	default:
		return fmt.Errorf("%w: the %s of static pool %s are disabled (%d) or unhealthy (%d: their health check failed%s)",
			ErrNoStaticWorker, workers(len(ws)), name, disabled, failed, lastLine(lastFailure))
	}
}

// lastLine returns ` ("<the last line of msg>")` for a health check's
// message, "" for an empty one.
func lastLine(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	return fmt.Sprintf(" (%q)", msg)
}

// checkStatic marks static worker w unavailable when its agent has been
// silent for its pool's UnavailableAfter (counted from this server's start at
// the earliest, as for lost workers). A step it was running fails with
// the reason, through Config.OnLost; the worker itself stays, and
// Heartbeat makes it idle again.
func (f *Fleet) checkStatic(ctx context.Context, w *store.Worker, now time.Time, policies *poolPolicies) error {
	if w.LastHeartbeatAt == nil || !slices.Contains([]string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining}, w.State) {
		return nil
	}
	since := *w.LastHeartbeatAt
	if since.Before(f.started) {
		since = f.started
	}
	after := policies.unavailableAfter(ctx, w)
	if now.Sub(since) <= after {
		return nil
	}
	reason := fmt.Sprintf("is unavailable: its agent sent no heartbeat for %s", now.Sub(*w.LastHeartbeatAt).Round(time.Second))
	// w was read before the provider list: a heartbeat since then wins.
	silentSince := now.Add(-after)
	marked, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{w.State}, HeartbeatBefore: &silentSince, State: api.WorkerUnavailable,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // it changed or heartbeated meanwhile; the next reconcile looks again
	}
	if err != nil {
		return fmt.Errorf("mark static worker %s unavailable: %w", w.ID, err)
	}
	f.cfg.Logger.WarnContext(ctx, "static worker unavailable", "worker_id", w.ID, "tenant_id", w.TenantID, "reason", reason)
	f.cfg.OnLost(marked, reason)
	return nil
}

// revive makes unavailable static worker w idle again: its agent
// heartbeats.
func (f *Fleet) revive(ctx context.Context, w *store.Worker) error {
	_, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerUnavailable}, State: api.WorkerIdle,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("make static worker %s available: %w", w.ID, err)
	}
	f.cfg.Logger.InfoContext(ctx, "static worker available again", "worker_id", w.ID, "tenant_id", w.TenantID)
	f.hub.Notify("released/" + w.TenantID)
	return nil
}

// DeleteStatic deletes static worker workerID of tenant tenantID, in any
// live state: it becomes destroyed (reason api.DestroyDeleted), its
// credential dies, and a step it was running fails. The credential dies
// in the first update, with DestroyAt now: should recording the end fail,
// the worker is left destroying with no way in, and the reaper finishes
// it. ErrNotFound for an unknown worker or another tenant's, ErrNotStatic
// for a worker a provider made, ErrConflict for one already gone.
func (f *Fleet) DeleteStatic(ctx context.Context, tenantID, workerID string) error {
	w, err := f.store.WorkerGet(ctx, workerID)
	if err != nil {
		return fmt.Errorf("get worker %s: %w", workerID, err)
	}
	if w.TenantID != tenantID {
		return fmt.Errorf("get worker %s: %w", workerID, store.ErrNotFound)
	}
	if !isStatic(w) {
		return fmt.Errorf("delete worker %s: %w", workerID, ErrNotStatic)
	}
	reason, now, none := api.DestroyDeleted, f.cfg.Clock.Now(), ""
	w, err = f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining, api.WorkerUnavailable},
		State: api.WorkerDestroying, DestroyReason: &reason, DestroyAt: &now, CredentialHash: &none,
	})
	if err != nil {
		return fmt.Errorf("delete worker %s: %w", workerID, err)
	}
	// Its agent can no longer report: a step it was running fails now,
	// whether or not the end is recorded at once.
	f.cfg.OnLost(w, "was deleted by its tenant")
	return f.finish(ctx, w, api.WorkerDestroyed, reason)
}

// releaseStatic makes static worker w idle after its step: no idle
// timeout, max lifetime or recycling applies to a tenant's own machine.
func (f *Fleet) releaseStatic(ctx context.Context, w *store.Worker) error {
	now := f.cfg.Clock.Now()
	_, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerBusy}, State: api.WorkerIdle, LastUsedAt: &now,
	})
	if err != nil {
		return fmt.Errorf("release static worker %s: %w", w.ID, err)
	}
	f.hub.Notify("released/" + w.TenantID)
	return nil
}
