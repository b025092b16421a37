package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
)

// ErrUnknownAgent is returned when a registration token or credential
// matches no live worker: the token was used already, the worker is gone,
// or the secret is wrong.
var ErrUnknownAgent = errors.New("unknown agent")

// Register turns a worker's one-time registration token into its
// credential: the worker becomes idle (its creator then leases it) and the
// token can never be used again. A token is refused (ErrUnknownAgent) once
// used, once its worker is gone, and once the registration timeout
// (Config.RegistrationTimeout, 2 minutes by default) has passed. The credential is returned once; only its
// hash is kept.
func (f *Fleet) Register(ctx context.Context, token string) (*store.Worker, string, error) {
	w, err := f.store.WorkerGetByRegistrationHash(ctx, id.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", ErrUnknownAgent
	}
	if err != nil {
		return nil, "", fmt.Errorf("find worker by registration token: %w", err)
	}
	now := f.cfg.Clock.Now()
	// A provisioning worker is due (DestroyAt) when its registration
	// timeout ends: from then on its token is refused, even before the
	// reaper has destroyed the worker.
	if w.DestroyAt != nil && !now.Before(*w.DestroyAt) {
		f.cfg.Logger.WarnContext(ctx, "registration token expired", "worker_id", w.ID, "tenant_id", w.TenantID,
			"registration_timeout", f.cfg.RegistrationTimeout.String())
		return nil, "", ErrUnknownAgent
	}
	credential := id.Secret("dpw")
	hash, none := id.Hash(credential), ""
	destroyAt, err := f.firstDestroyAt(ctx, w, now)
	if err != nil {
		return nil, "", fmt.Errorf("register worker %s: %w", w.ID, err)
	}
	w, err = f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, FromStates: []string{api.WorkerProvisioning}, State: api.WorkerIdle,
		RegistrationHash: &none, CredentialHash: &hash,
		RegisteredAt: &now, LastHeartbeatAt: &now, DestroyAt: &destroyAt,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, "", ErrUnknownAgent
	}
	if err != nil {
		return nil, "", fmt.Errorf("register worker: %w", err)
	}
	// CreatedAt is taken just before the provider is asked (record), so
	// this is the provider's start plus the agent's.
	startup := now.Sub(w.CreatedAt)
	f.cfg.Metrics.created(startup)
	f.cfg.Logger.InfoContext(ctx, "worker registered", "worker_id", w.ID, "tenant_id", w.TenantID,
		"startup", startup.String())
	f.hub.Notify("worker/" + w.ID)
	f.hub.Notify("released/" + w.TenantID)
	f.hub.Notify(capacityKey) // a creation in flight ended
	return w, credential, nil
}

// firstDestroyAt is when worker w, registering now, is due: its tenant's
// idle timeout or max lifetime, or, for a standby worker (no idle
// timeout: it waits to be leased), the server's max lifetime.
func (f *Fleet) firstDestroyAt(ctx context.Context, w *store.Worker, now time.Time) (time.Time, error) {
	if isStandby(w) {
		_, maxLife := f.Timeouts(&store.Tenant{})
		return w.CreatedAt.Add(maxLife), nil
	}
	t, err := f.store.TenantGet(ctx, w.TenantID)
	if err != nil {
		return time.Time{}, err
	}
	idle, maxLife := f.Timeouts(t)
	return earliest(now.Add(idle), w.CreatedAt.Add(maxLife)), nil
}

// HeartbeatInterval is how often agents of dynamic workers must call
// Heartbeat; a static pool's machine policy may say otherwise
// ([Fleet.MachinePolicy]).
func (f *Fleet) HeartbeatInterval() time.Duration { return f.cfg.HeartbeatInterval }

// Authenticate returns the live worker whose agent holds credential, or
// ErrUnknownAgent.
func (f *Fleet) Authenticate(ctx context.Context, credential string) (*store.Worker, error) {
	w, err := f.store.WorkerGetByCredentialHash(ctx, id.Hash(credential))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownAgent
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate agent: %w", err)
	}
	return w, nil
}

// HeartbeatParams is what an agent reports with its heartbeat.
type HeartbeatParams struct {
	// Running counts the jobs the agent says it runs.
	Running int
	// AgentVersion is the agent's build, "" when it did not say.
	AgentVersion string
}

// Heartbeat records that w's agent is alive, and its version. An
// unavailable static worker becomes idle again, but only once its agent
// runs no job: until then it may still run a script the server failed
// when it found the worker unavailable (the heartbeat's answer tells the
// agent to stop it), and must take no new step.
func (f *Fleet) Heartbeat(ctx context.Context, w *store.Worker, p HeartbeatParams) error {
	now := f.cfg.Clock.Now()
	upd := &store.WorkerUpdateParams{ID: w.ID, LastHeartbeatAt: &now}
	if p.AgentVersion != "" {
		upd.AgentVersion = &p.AgentVersion
	}
	// The state is read from this update, not from w (read when the call
	// was authenticated), so a worker marked unavailable in between is
	// seen so.
	cur, err := f.store.WorkerUpdate(ctx, upd)
	if err != nil {
		return fmt.Errorf("heartbeat of worker %s: %w", w.ID, err)
	}
	if isStatic(cur) && cur.State == api.WorkerUnavailable {
		if p.Running > 0 {
			f.cfg.Logger.InfoContext(ctx, "static worker stays unavailable: its agent still runs a job",
				"worker_id", w.ID, "tenant_id", w.TenantID, "running", p.Running)
			return nil
		}
		return f.revive(ctx, cur)
	}
	return nil
}
