package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// Recycle destroys the idle workers that [Config.Retire] says no new step
// should get: their image was rebuilt, their pool moved to another image
// or was deleted, their image reached end of life. Busy ones are destroyed
// when their step ends ([Fleet.Release]). The reaper calls it every
// reconcile period; the server calls it at once after a catalog reload, a
// new build or a pool change.
func (f *Fleet) Recycle(ctx context.Context) error {
	idle, err := f.store.WorkerList(ctx, &store.WorkerListParams{States: []string{api.WorkerIdle}})
	if err != nil {
		return fmt.Errorf("list idle workers: %w", err)
	}
	var errs []error
	for _, w := range idle {
		if isStandby(w) || isStatic(w) {
			continue // of no pool (Standby replaces those of old builds), or a tenant's own machine
		}
		reason, err := f.cfg.Retire(ctx, w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if reason == "" {
			continue
		}
		f.cfg.Logger.InfoContext(ctx, "recycling idle worker", "worker_id", w.ID, "tenant_id", w.TenantID, "reason", reason)
		if err := f.destroy(ctx, w, []string{api.WorkerIdle}, reason); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
