package fleet

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// evict makes room under a limit that refused a worker for tenant t's
// pool: it destroys the least recently used idle worker the limit counts
// (for the tenant's limit one of the tenant's, for the pool's one of the
// pool's, for the provider's one of any tenant; standby workers, and new
// workers their creating step has not claimed yet, are left alone) that the waiting step cannot lease: not of its tenant, pool,
// image and build. It returns what it did, for the wait
// reason, or "" when nothing could be evicted (every counted worker is
// busy, or the limit is on creations in flight). The destroy's wake-up
// lets the waiting step try again.
func (f *Fleet) evict(ctx context.Context, t *store.Tenant, pool *store.Pool, target *Target, le *store.LimitError) string {
	var params store.WorkerListParams
	switch le.Scope {
	case store.LimitTenant:
		params = store.WorkerListParams{TenantID: t.ID}
	case store.LimitPool:
		params = store.WorkerListParams{TenantID: t.ID, PoolID: pool.ID}
	case store.LimitProvider:
	default:
		return ""
	}
	params.States = []string{api.WorkerIdle}
	idle, err := f.store.WorkerList(ctx, &params)
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "list idle workers to evict", "error", err)
		return ""
	}
	idle = slices.DeleteFunc(idle, func(w *store.Worker) bool {
		// One the step could lease (released since it looked) is kept:
		// the step leases it on its next try.
		usable := w.TenantID == t.ID && w.PoolID == pool.ID && w.Image == target.Image && w.Build == target.Build
		// Registered but never used: the step that made it is about to
		// claim it.
		unclaimed := w.LastUsedAt == nil
		return usable || unclaimed || isStandby(w) || w.Provider != f.provider.Name()
	})
	if len(idle) == 0 {
		return ""
	}
	lastUsed := func(w *store.Worker) time.Time {
		if w.LastUsedAt != nil {
			return *w.LastUsedAt
		}
		return w.CreatedAt
	}
	victim := slices.MinFunc(idle, func(a, b *store.Worker) int { return lastUsed(a).Compare(lastUsed(b)) })
	f.cfg.Logger.InfoContext(ctx, "evicting idle worker to make room", "worker_id", victim.ID, "tenant_id", victim.TenantID,
		"for_tenant", t.ID, "limit", le.Scope)
	if err := f.destroy(context.WithoutCancel(ctx), victim, []string{api.WorkerIdle}, api.DestroyEvicted); err != nil {
		f.cfg.Logger.WarnContext(ctx, "evict idle worker", "worker_id", victim.ID, "error", err)
		return ""
	}
	return fmt.Sprintf("idle worker %s (unused since %s) destroyed to make room", victim.ID, lastUsed(victim).UTC().Format(time.RFC3339))
}
