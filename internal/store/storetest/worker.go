package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// newWorker stores and returns a worker of tenant and pool in state,
// created d after t0, with image "ubuntu-22.04" build "b1" and no optional
// times. mutate, when not nil, adjusts it before it is stored.
func newWorker(t *testing.T, s store.Store, id, tenant, pool, state string, d time.Duration, mutate func(*store.Worker)) *store.Worker {
	t.Helper()
	w := &store.Worker{ID: id, TenantID: tenant, PoolID: pool, Image: "ubuntu-22.04", Build: "b1",
		Provider: "process", State: state, CreatedAt: at(d)}
	if mutate != nil {
		mutate(w)
	}
	if w.State == api.WorkerBusy && w.Leases == 0 {
		w.Leases = 1 // as a lease leaves it
	}
	must(t, "create worker "+id, s.WorkerCreate(t.Context(), w, store.WorkerLimits{}))
	return w
}

func testWorker(t *testing.T, open opener) {
	t.Run("CreateWithinLimit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, id := range []string{"t1", "t2", "t3"} {
			newTenant(t, s, id, 0)
		}
		newWorker(t, s, "w-live", "t1", "p1", api.WorkerBusy, 0, nil)
		newWorker(t, s, "w-gone", "t1", "p1", api.WorkerDestroyed, 0, nil)
		w := &store.Worker{ID: "w-second", TenantID: "t1", PoolID: "p1", State: api.WorkerProvisioning, CreatedAt: t0}
		must(t, "create the second of two", s.WorkerCreate(t.Context(), w, store.WorkerLimits{Tenant: 2}))
		w3 := &store.Worker{ID: "w-third", TenantID: "t1", PoolID: "p1", State: api.WorkerProvisioning, CreatedAt: t0}
		wantErr(t, "create a third of two", s.WorkerCreate(t.Context(), w3, store.WorkerLimits{Tenant: 2}), store.ErrLimit)
		if _, err := s.WorkerGet(t.Context(), "w-third"); err == nil {
			t.Fatal("a worker refused for the limit was stored")
		}
		other := &store.Worker{ID: "w-other", TenantID: "t2", PoolID: "p1", State: api.WorkerProvisioning, CreatedAt: t0}
		must(t, "another tenant's limit is its own", s.WorkerCreate(t.Context(), other, store.WorkerLimits{Tenant: 1}))

		const tries, limit = 8, 3
		errs := make(chan error, tries)
		for i := range tries {
			go func() {
				errs <- s.WorkerCreate(t.Context(), &store.Worker{ID: "w-race-" + string(rune('a'+i)), TenantID: "t3",
					PoolID: "p1", State: api.WorkerProvisioning, CreatedAt: t0}, store.WorkerLimits{Tenant: limit})
			}()
		}
		created := 0
		for range tries {
			err := <-errs
			switch {
			case err == nil:
				created++
			case !errors.Is(err, store.ErrLimit):
				t.Fatalf("concurrent create: %v", err)
			}
		}
		if created != limit {
			t.Fatalf("%d concurrent creations under a limit of %d made %d workers", tries, limit, created)
		}
	})

	t.Run("CreateWithinProviderLimits", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		newWorker(t, s, "w-busy", "t1", "p1", api.WorkerBusy, 0, nil)
		newWorker(t, s, "w-standby", "", "", api.WorkerIdle, 0, nil)
		newWorker(t, s, "w-making", "t2", "p2", api.WorkerProvisioning, 0, nil)
		newWorker(t, s, "w-gone", "t1", "p1", api.WorkerDestroyed, 0, nil)
		newWorker(t, s, "w-docker", "t1", "p1", api.WorkerProvisioning, 0, func(w *store.Worker) { w.Provider = "docker" })
		create := func(id string, limits store.WorkerLimits) error {
			return s.WorkerCreate(t.Context(), &store.Worker{ID: id, TenantID: "t2", PoolID: "p2", Provider: "process",
				State: api.WorkerProvisioning, CreatedAt: t0}, limits)
		}
		var le *store.LimitError
		// Three live process workers, of every tenant and standby; the
		// destroyed one and the docker one do not count.
		err := create("w-x", store.WorkerLimits{Provider: 3})
		if !errors.As(err, &le) || le.Scope != store.LimitProvider || le.Max != 3 || !errors.Is(err, store.ErrLimit) {
			t.Fatalf("create at the provider limit = %v, want a provider LimitError of 3", err)
		}
		// One process worker is being made.
		err = create("w-y", store.WorkerLimits{Provider: 4, Provisioning: 1})
		if !errors.As(err, &le) || le.Scope != store.LimitProvisioning || le.Max != 1 {
			t.Fatalf("create at the provisioning limit = %v, want a provisioning LimitError of 1", err)
		}
		// t2's pool p2 holds w-making; p1 of t2 holds none.
		err = create("w-p", store.WorkerLimits{Pool: 1})
		if !errors.As(err, &le) || le.Scope != store.LimitPool || le.Max != 1 {
			t.Fatalf("create at the pool limit = %v, want a pool LimitError of 1", err)
		}
		must(t, "create within every limit", create("w-z", store.WorkerLimits{Tenant: 2, Pool: 2, Provider: 4, Provisioning: 2}))
		err = create("w-t", store.WorkerLimits{Tenant: 2})
		if !errors.As(err, &le) || le.Scope != store.LimitTenant || le.Max != 2 {
			t.Fatalf("create at the tenant limit = %v, want a tenant LimitError of 2", err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		full := &store.Worker{ID: "w1", TenantID: "t1", PoolID: "p1", Image: "ubuntu-22.04", Build: "2026.11.02",
			Provider: "docker", ResourceID: "c0ffee", State: api.WorkerIdle,
			RegistrationHash: "reg-1", CredentialHash: "cred-1", CreatedAt: t0,
			RegisteredAt: ptr(at(time.Second)), LeasedAt: ptr(at(2 * time.Second)), LastUsedAt: ptr(at(3 * time.Second)),
			LastHeartbeatAt: ptr(at(4 * time.Second)), DestroyAt: ptr(at(time.Hour)), DestroyedAt: ptr(at(2 * time.Hour)),
			DestroyReason: api.DestroyIdleTimeout, HealthStatus: api.HealthWarning,
			HealthMessage: "WARNING: disk 91% full", HealthCheckedAt: ptr(at(5 * time.Second))}
		bare := &store.Worker{ID: "w2", Image: "windows-2022", Build: "b1", Provider: "process",
			State: api.WorkerProvisioning, CreatedAt: t0}
		for _, want := range []*store.Worker{full, bare} {
			must(t, "create", s.WorkerCreate(t.Context(), want, store.WorkerLimits{}))
			got, err := s.WorkerGet(t.Context(), want.ID)
			must(t, "get", err)
			check(t, "WorkerGet "+want.ID, got, want)
		}
	})
	t.Run("NotFoundConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newWorker(t, s, "w1", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) {
			w.CredentialHash, w.RegistrationHash = "cred", "reg"
		})
		_, err := s.WorkerGet(t.Context(), "missing")
		wantErr(t, "get unknown worker", err, store.ErrNotFound)
		for _, w := range []*store.Worker{
			{ID: "w1", Image: "i", Build: "b", Provider: "process", State: api.WorkerIdle, CreatedAt: t0},
			{ID: "w2", Image: "i", Build: "b", Provider: "process", State: api.WorkerIdle, CreatedAt: t0, CredentialHash: "cred"},
			{ID: "w3", Image: "i", Build: "b", Provider: "process", State: api.WorkerIdle, CreatedAt: t0, RegistrationHash: "reg"},
		} {
			wantErr(t, "create duplicate "+w.ID, s.WorkerCreate(t.Context(), w, store.WorkerLimits{}), store.ErrConflict)
		}
	})
	t.Run("GetByCredentialHash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, tc := range []struct {
			state string
			found bool
		}{
			{api.WorkerProvisioning, true},
			{api.WorkerIdle, true},
			{api.WorkerBusy, true},
			{api.WorkerDraining, true},
			{api.WorkerDestroying, true},
			{api.WorkerDestroyed, false},
			{api.WorkerLost, false},
		} {
			want := newWorker(t, s, "w-"+tc.state, "t1", "p1", tc.state, 0, func(w *store.Worker) {
				w.CredentialHash = "cred-" + w.State
			})
			got, err := s.WorkerGetByCredentialHash(t.Context(), "cred-"+tc.state)
			if !tc.found {
				wantErr(t, "get "+tc.state+" worker by credential", err, store.ErrNotFound)
				continue
			}
			must(t, "get "+tc.state+" worker by credential", err)
			check(t, "WorkerGetByCredentialHash", got, want)
		}
		newWorker(t, s, "nocred", "t1", "p1", api.WorkerIdle, 0, nil)
		_, err := s.WorkerGetByCredentialHash(t.Context(), "")
		wantErr(t, "get by empty credential hash", err, store.ErrNotFound)
		_, err = s.WorkerGetByCredentialHash(t.Context(), "missing")
		wantErr(t, "get by unknown credential hash", err, store.ErrNotFound)
	})
	t.Run("GetByRegistrationHash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := newWorker(t, s, "w1", "", "", api.WorkerProvisioning, 0, func(w *store.Worker) { w.RegistrationHash = "reg-1" })
		newWorker(t, s, "w2", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) { w.RegistrationHash = "reg-2" })
		newWorker(t, s, "w3", "", "", api.WorkerProvisioning, 0, nil)
		got, err := s.WorkerGetByRegistrationHash(t.Context(), "reg-1")
		must(t, "get provisioning worker by registration", err)
		check(t, "WorkerGetByRegistrationHash", got, want)
		_, err = s.WorkerGetByRegistrationHash(t.Context(), "reg-2")
		wantErr(t, "get registered worker by registration", err, store.ErrNotFound)
		_, err = s.WorkerGetByRegistrationHash(t.Context(), "")
		wantErr(t, "get by empty registration hash", err, store.ErrNotFound)
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// Creation order (b, c, a, d) differs from id order.
		c := newWorker(t, s, "c", "t1", "p1", api.WorkerIdle, time.Minute, nil)
		a := newWorker(t, s, "a", "t1", "p1", api.WorkerBusy, 2*time.Minute, nil)
		b := newWorker(t, s, "b", "t1", "p2", api.WorkerDestroyed, 0, nil)
		d := newWorker(t, s, "d", "t2", "q1", api.WorkerIdle, 3*time.Minute, nil)
		for _, tc := range []struct {
			name string
			p    store.WorkerListParams
			want []*store.Worker
		}{
			{"everything", store.WorkerListParams{}, []*store.Worker{b, c, a, d}},
			{"tenant", store.WorkerListParams{TenantID: "t1"}, []*store.Worker{b, c, a}},
			{"pool", store.WorkerListParams{TenantID: "t1", PoolID: "p1"}, []*store.Worker{c, a}},
			{"states", store.WorkerListParams{States: []string{api.WorkerIdle, api.WorkerDestroyed}}, []*store.Worker{b, c, d}},
			{"all filters", store.WorkerListParams{TenantID: "t1", PoolID: "p1", States: []string{api.WorkerIdle}}, []*store.Worker{c}},
			{"no match", store.WorkerListParams{TenantID: "t3"}, nil},
		} {
			got, err := s.WorkerList(t.Context(), &tc.p)
			must(t, "list", err)
			check(t, "WorkerList "+tc.name, got, tc.want)
		}
	})
	t.Run("ListExpired", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now := at(time.Hour)
		due := func(d time.Duration) func(*store.Worker) {
			return func(w *store.Worker) { w.DestroyAt = ptr(now.Add(d)) }
		}
		early := newWorker(t, s, "early", "t1", "p1", api.WorkerIdle, 0, due(-time.Minute))
		onTime := newWorker(t, s, "on-time", "t1", "p1", api.WorkerBusy, 0, due(0))
		newWorker(t, s, "later", "t1", "p1", api.WorkerIdle, 0, due(time.Microsecond))
		newWorker(t, s, "never", "t1", "p1", api.WorkerIdle, 0, nil)
		gone := newWorker(t, s, "gone", "t1", "p1", api.WorkerDestroyed, 0, due(-time.Hour))
		for _, tc := range []struct {
			name   string
			states []string
			want   []*store.Worker
		}{
			{"idle", []string{api.WorkerIdle}, []*store.Worker{early}},
			{"idle and busy", []string{api.WorkerIdle, api.WorkerBusy}, []*store.Worker{early, onTime}},
			{"any state", nil, []*store.Worker{early, gone, onTime}},
			{"draining", []string{api.WorkerDraining}, nil},
		} {
			got, err := s.WorkerListExpired(t.Context(), now, tc.states...)
			must(t, "list expired", err)
			// The order is not part of the contract.
			slices.SortFunc(got, func(a, b *store.Worker) int { return strings.Compare(a.ID, b.ID) })
			check(t, "WorkerListExpired "+tc.name+" (by id)", got, tc.want)
		}
	})
}
