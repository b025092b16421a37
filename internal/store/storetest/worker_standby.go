package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// leaseStandby calls WorkerLeaseStandby for tenant, pool p1, image
// ubuntu-22.04, build b1 at now, with limit maxLive.
func leaseStandby(t *testing.T, s store.Store, tenant string, now time.Time, maxLive int) (*store.Worker, error) {
	t.Helper()
	return s.WorkerLeaseStandby(t.Context(), &store.WorkerLeaseStandbyParams{TenantID: tenant, PoolID: "p1",
		Image: "ubuntu-22.04", Build: "b1", Now: now, MaxLive: maxLive, CreatedAfter: at(-time.Minute)})
}

func testWorkerLeaseStandby(t *testing.T, open opener) {
	t.Run("BindsTheOldestMatchingStandbyWorker", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		now := at(time.Hour)
		for _, tc := range []struct {
			id     string
			mutate func(*store.Worker)
		}{
			{"tenant-owned", func(w *store.Worker) { w.TenantID, w.PoolID = "t2", "p2" }},
			{"other-image", func(w *store.Worker) { w.Image = "ubuntu-24.04" }},
			{"other-build", func(w *store.Worker) { w.Build = "b0" }},
			{"provisioning", func(w *store.Worker) { w.State = api.WorkerProvisioning }},
			{"expired", func(w *store.Worker) { w.DestroyAt = ptr(now) }},
			{"too-old-for-the-tenant", func(w *store.Worker) { w.CreatedAt = at(-time.Hour) }},
		} {
			newWorker(t, s, tc.id, "", "", api.WorkerIdle, 0, tc.mutate)
		}
		_, err := leaseStandby(t, s, "t1", now, 0)
		wantErr(t, "lease with no matching standby worker", err, store.ErrNotFound)

		newWorker(t, s, "younger", "", "", api.WorkerIdle, 2*time.Second, nil)
		older := newWorker(t, s, "older", "", "", api.WorkerIdle, time.Second, nil)
		got, err := leaseStandby(t, s, "t1", now, 0)
		must(t, "lease", err)
		want := *older
		want.TenantID, want.PoolID, want.State, want.LeasedAt, want.Leases = "t1", "p1", api.WorkerBusy, ptr(now), 1
		check(t, "leased standby worker", got, &want)
		standby, err := s.WorkerList(t.Context(), &store.WorkerListParams{Standby: true, States: []string{api.WorkerIdle}})
		must(t, "list standby", err)
		var ids []string
		for _, w := range standby {
			ids = append(ids, w.ID)
		}
		if want := []string{"too-old-for-the-tenant", "expired", "other-build", "other-image", "younger"}; !slices.Equal(ids, want) {
			t.Errorf("idle standby workers after the lease = %v, want %v", ids, want)
		}
	})
	t.Run("HoldsTheTenantsLimit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newWorker(t, s, "mine", "t1", "p1", api.WorkerBusy, 0, nil)
		newWorker(t, s, "spare", "", "", api.WorkerIdle, 0, nil)
		_, err := leaseStandby(t, s, "t1", at(time.Minute), 1)
		wantErr(t, "lease beyond the tenant's limit", err, store.ErrLimit)
		got, err := s.WorkerGet(t.Context(), "spare")
		must(t, "get", err)
		if got.TenantID != "" || got.State != api.WorkerIdle {
			t.Errorf("standby worker after a refused lease: tenant %q state %s, want untouched", got.TenantID, got.State)
		}
		_, err = s.WorkerLeaseStandby(t.Context(), &store.WorkerLeaseStandbyParams{TenantID: "t1", PoolID: "p1",
			Image: "ubuntu-22.04", Build: "b1", Now: at(time.Minute), MaxLive: 2, MaxPool: 1, CreatedAfter: at(-time.Minute)})
		var le *store.LimitError
		if !errors.As(err, &le) || le.Scope != store.LimitPool {
			t.Fatalf("lease beyond the pool's limit = %v, want a pool LimitError", err)
		}
		_, err = leaseStandby(t, s, "t1", at(time.Minute), 2)
		must(t, "lease within the limit", err)
	})
	t.Run("OneWorkerOneTenant", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const tenants = 8
		for i := range tenants {
			newTenant(t, s, tenantName(i), 0)
		}
		newWorker(t, s, "spare", "", "", api.WorkerIdle, 0, nil)
		var wg sync.WaitGroup
		won := make(chan string, tenants)
		for i := range tenants {
			wg.Go(func() {
				if w, err := leaseStandby(t, s, tenantName(i), at(time.Minute), 0); err == nil {
					won <- w.TenantID
				}
			})
		}
		wg.Wait()
		close(won)
		var winners []string
		for w := range won {
			winners = append(winners, w)
		}
		got, err := s.WorkerGet(t.Context(), "spare")
		must(t, "get", err)
		if len(winners) != 1 || got.TenantID != winners[0] {
			t.Errorf("concurrent leases: winners %v, worker's tenant %q; want exactly one, the same", winners, got.TenantID)
		}
	})
}

func tenantName(i int) string { return "t" + string(rune('a'+i)) }
