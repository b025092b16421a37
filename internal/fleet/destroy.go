package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// destroy moves w from one of from to destroying (so no step can lease it
// meanwhile), ends its machine and marks it destroyed with reason. A worker
// no longer in one of from was taken by someone else: nothing is done.
func (f *Fleet) destroy(ctx context.Context, w *store.Worker, from []string, reason string) error {
	_, err := f.destroyGuarded(ctx, &store.WorkerUpdateParams{ID: w.ID, FromStates: from}, reason)
	return err
}

// destroyGuarded is destroy for the worker guard.ID while guard's
// conditions (FromStates, LastLease) hold; it reports whether they held.
func (f *Fleet) destroyGuarded(ctx context.Context, guard *store.WorkerUpdateParams, reason string) (bool, error) {
	now := f.cfg.Clock.Now()
	guard.State, guard.DestroyReason, guard.DestroyAt = api.WorkerDestroying, &reason, &now
	w, err := f.store.WorkerUpdate(ctx, guard)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("destroy worker: %w", err)
	}
	return true, f.finish(ctx, w, api.WorkerDestroyed, reason)
}

// finish ends w's machine, if it has one, and records the final state.
// When the provider fails, w stays destroying and the next reaper tick
// tries again.
func (f *Fleet) finish(ctx context.Context, w *store.Worker, state, reason string) error {
	if w.ResourceID != "" {
		if err := f.provider.Destroy(ctx, w.ResourceID); err != nil {
			f.cfg.Logger.ErrorContext(ctx, "destroy worker failed; will retry", "worker_id", w.ID, "error", err)
			return fmt.Errorf("destroy worker %s: %w", w.ID, err)
		}
	}
	now := f.cfg.Clock.Now()
	none := ""
	_, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
		ID: w.ID, State: state, DestroyReason: &reason, DestroyedAt: &now, DestroyAt: &now,
		CredentialHash: &none, RegistrationHash: &none,
	})
	if err != nil {
		return fmt.Errorf("record destroyed worker %s: %w", w.ID, err)
	}
	f.cfg.Logger.InfoContext(ctx, "worker destroyed", "worker_id", w.ID, "tenant_id", w.TenantID, "reason", reason)
	f.cfg.Metrics.destroyed(reason)
	f.hub.Notify("worker/" + w.ID)
	f.hub.Notify("released/" + w.TenantID)
	f.hub.Notify(capacityKey)
	return nil
}

// Discard destroys worker w now, whatever step it was busy with, with
// reason (for example a worker that would not stop a canceled script); a
// static worker (a tenant's machine) is set unavailable instead.
func (f *Fleet) Discard(ctx context.Context, w *store.Worker, reason string) error {
	if isStatic(w) {
		// A tenant's own machine is not the fleet's to destroy: it gets no
		// step until its agent heartbeats again.
		_, err := f.store.WorkerUpdate(ctx, &store.WorkerUpdateParams{
			ID: w.ID, FromStates: []string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining}, State: api.WorkerUnavailable,
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("discard static worker %s: %w", w.ID, err)
		}
		f.cfg.Logger.WarnContext(ctx, "static worker set unavailable", "worker_id", w.ID, "tenant_id", w.TenantID, "reason", reason)
		return nil
	}
	return f.destroy(ctx, w, []string{api.WorkerIdle, api.WorkerBusy, api.WorkerDraining}, reason)
}
