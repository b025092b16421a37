package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testRegistrationToken(t *testing.T, open opener) {
	t.Run("UseOnce", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "static", true, 0)
		k := &store.RegistrationToken{ID: "r1", TenantID: "t1", PoolID: "p1", TokenHash: "hash-1",
			CreatedAt: t0, ExpiresAt: at(time.Hour)}
		must(t, "create", s.RegistrationTokenCreate(t.Context(), k))
		got, err := s.RegistrationTokenUse(t.Context(), "hash-1", at(time.Minute))
		must(t, "use", err)
		want := *k
		want.UsedAt = ptr(at(time.Minute))
		check(t, "RegistrationTokenUse", got, &want)
		_, err = s.RegistrationTokenUse(t.Context(), "hash-1", at(2*time.Minute))
		wantErr(t, "use it again", err, store.ErrNotFound)
		_, err = s.RegistrationTokenUse(t.Context(), "unknown", at(time.Minute))
		wantErr(t, "use an unknown token", err, store.ErrNotFound)
		_, err = s.RegistrationTokenUse(t.Context(), "", at(time.Minute))
		wantErr(t, "use an empty hash", err, store.ErrNotFound)
	})
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "static", true, 0)
		must(t, "create", s.RegistrationTokenCreate(t.Context(), &store.RegistrationToken{
			ID: "r1", TenantID: "t1", PoolID: "p1", TokenHash: "hash-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}))
		_, err := s.RegistrationTokenUse(t.Context(), "hash-1", at(time.Hour))
		wantErr(t, "use at its expiry", err, store.ErrNotFound)
	})
	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "static", true, 0)
		k := store.RegistrationToken{ID: "r1", TenantID: "t1", PoolID: "p1", TokenHash: "hash-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
		must(t, "create", s.RegistrationTokenCreate(t.Context(), &k))
		dup := k
		dup.ID = "r2"
		wantErr(t, "create with a taken hash", s.RegistrationTokenCreate(t.Context(), &dup), store.ErrConflict)
		dup = k
		dup.TokenHash = "hash-2"
		wantErr(t, "create with a taken id", s.RegistrationTokenCreate(t.Context(), &dup), store.ErrConflict)
		dup = k
		dup.ID, dup.TokenHash, dup.PoolID = "r3", "hash-3", "missing"
		wantErr(t, "create for an unknown pool", s.RegistrationTokenCreate(t.Context(), &dup), store.ErrNotFound)
		dup.PoolID, dup.TenantID = "p1", "missing"
		wantErr(t, "create for an unknown tenant", s.RegistrationTokenCreate(t.Context(), &dup), store.ErrNotFound)
	})
	t.Run("ConcurrentUse", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "static", true, 0)
		must(t, "create", s.RegistrationTokenCreate(t.Context(), &store.RegistrationToken{
			ID: "r1", TenantID: "t1", PoolID: "p1", TokenHash: "hash-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}))
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = s.RegistrationTokenUse(t.Context(), "hash-1", at(time.Minute)) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrNotFound):
				t.Fatalf("concurrent use: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent uses of one token succeeded, want 1", ok, n)
		}
	})
	t.Run("StaticWorkerName", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "static", true, 0)
		w := newWorker(t, s, "w1", "t1", "p1", "idle", 0, func(w *store.Worker) {
			w.Name, w.Provider, w.Image, w.Build = "build-box-1", store.ProviderStatic, "", ""
		})
		got, err := s.WorkerGet(t.Context(), "w1")
		must(t, "get", err)
		check(t, "WorkerGet", got, w)
		// A static worker is the tenant's own machine: no tenant limit
		// counts it.
		err = s.WorkerCreate(t.Context(), &store.Worker{ID: "w2", TenantID: "t1", PoolID: "p2", Image: "ubuntu-22.04",
			Build: "b1", Provider: "process", State: "provisioning", CreatedAt: t0}, store.WorkerLimits{Tenant: 1})
		must(t, "create a dynamic worker under a tenant limit of 1", err)
	})
}
