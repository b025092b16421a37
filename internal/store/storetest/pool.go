package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// newPool stores and returns a dynamic pool of tenant, created d after t0.
func newPool(t *testing.T, s store.Store, tenant, id, name string, isDefault bool, d time.Duration) *store.Pool {
	t.Helper()
	p := &store.Pool{ID: id, TenantID: tenant, Name: name, Type: "dynamic", Image: "ubuntu-default",
		IsDefault: isDefault, CreatedAt: at(d)}
	must(t, "create pool "+id, s.PoolCreate(t.Context(), p))
	return p
}

// wantDefault fails t unless the default pool of tenant is id.
func wantDefault(t *testing.T, s store.Store, tenant, id string) {
	t.Helper()
	got, err := s.PoolGetDefault(t.Context(), tenant)
	must(t, "get default pool of "+tenant, err)
	if got.ID != id {
		t.Errorf("default pool of %s = %s, want %s", tenant, got.ID, id)
	}
	pools, err := s.PoolList(t.Context(), tenant)
	must(t, "list pools of "+tenant, err)
	for _, p := range pools {
		if p.IsDefault != (p.ID == id) {
			t.Errorf("pool %s IsDefault = %v, want %v", p.ID, p.IsDefault, p.ID == id)
		}
	}
}

func testPool(t *testing.T, open opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		want := &store.Pool{ID: "p1", TenantID: "t1", Name: "linux", Type: "static", Image: "ubuntu-22.04",
			IsDefault: true, CreatedAt: t0, MaxWorkers: 7, Capacity: 4, HeartbeatInterval: 20 * time.Second, UnavailableAfter: 3 * time.Minute,
			HealthCheck: store.HealthCheck{Syntax: "bash", Script: "df -h /", Interval: 5 * time.Minute, Timeout: time.Minute}}
		must(t, "create", s.PoolCreate(t.Context(), want))
		for _, key := range []string{"p1", "linux"} {
			got, err := s.PoolGet(t.Context(), "t1", key)
			must(t, "get "+key, err)
			check(t, "PoolGet "+key, got, want)
		}
		got, err := s.PoolGetDefault(t.Context(), "t1")
		must(t, "get default", err)
		check(t, "PoolGetDefault", got, want)
		list, err := s.PoolList(t.Context(), "t1")
		must(t, "list", err)
		check(t, "PoolList", list, []*store.Pool{want})
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		// Creation order (b, c, a) differs from id and name order.
		a := newPool(t, s, "t1", "a", "x", false, 2*time.Second)
		b := newPool(t, s, "t1", "b", "z", true, 0)
		c := newPool(t, s, "t1", "c", "y", false, time.Second)
		newPool(t, s, "t2", "d", "w", true, 0)
		got, err := s.PoolList(t.Context(), "t1")
		must(t, "list", err)
		check(t, "PoolList (oldest first, own tenant only)", got, []*store.Pool{b, c, a})
	})
	t.Run("IDBeforeName", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "p2", false, 0)
		want := newPool(t, s, "t1", "p2", "other", false, time.Second)
		got, err := s.PoolGet(t.Context(), "t1", "p2")
		must(t, "get", err)
		check(t, "PoolGet of a key that is one pool's id and another's name", got, want)
	})
	t.Run("NameConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		newPool(t, s, "t1", "p1", "linux", true, 0)
		err := s.PoolCreate(t.Context(), &store.Pool{ID: "p2", TenantID: "t1", Name: "linux", Type: "dynamic",
			Image: "x", IsDefault: true, CreatedAt: t0})
		wantErr(t, "create with a taken name", err, store.ErrConflict)
		wantDefault(t, s, "t1", "p1") // the failed create changed nothing
		err = s.PoolCreate(t.Context(), &store.Pool{ID: "p1", TenantID: "t1", Name: "new", Type: "dynamic",
			Image: "x", CreatedAt: t0})
		wantErr(t, "create with a taken id", err, store.ErrConflict)
		newPool(t, s, "t2", "p3", "linux", false, 0) // same name, other tenant: fine
	})
	t.Run("UnknownTenant", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		err := s.PoolCreate(t.Context(), &store.Pool{ID: "p1", TenantID: "missing", Name: "linux",
			Type: "dynamic", Image: "x", CreatedAt: t0})
		wantErr(t, "create in an unknown tenant", err, store.ErrNotFound)
	})
	t.Run("TenantScope", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		p := newPool(t, s, "t1", "p1", "linux", true, 0)
		for _, key := range []string{"p1", "linux"} {
			_, err := s.PoolGet(t.Context(), "t2", key)
			wantErr(t, "get another tenant's pool by "+key, err, store.ErrNotFound)
		}
		_, err := s.PoolGetDefault(t.Context(), "t2")
		wantErr(t, "get default of a tenant without pools", err, store.ErrNotFound)
		other := *p
		other.TenantID, other.Name = "t2", "stolen"
		wantErr(t, "update another tenant's pool", s.PoolUpdate(t.Context(), &other), store.ErrNotFound)
		wantErr(t, "delete another tenant's pool", s.PoolDelete(t.Context(), "t2", "p1"), store.ErrNotFound)
		list, err := s.PoolList(t.Context(), "t2")
		must(t, "list", err)
		if len(list) != 0 {
			t.Errorf("PoolList of t2 = %d pools, want 0", len(list))
		}
		got, err := s.PoolGet(t.Context(), "t1", "p1")
		must(t, "get", err)
		check(t, "pool after another tenant's update and delete", got, p)
	})
	t.Run("DefaultSwitch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		newPool(t, s, "t2", "q1", "linux", true, 0)
		a := newPool(t, s, "t1", "a", "a", true, 0)
		wantDefault(t, s, "t1", "a")
		newPool(t, s, "t1", "b", "b", true, time.Second)
		wantDefault(t, s, "t1", "b")
		newPool(t, s, "t1", "c", "c", false, 2*time.Second)
		wantDefault(t, s, "t1", "b")
		a.IsDefault = true
		must(t, "update a to default", s.PoolUpdate(t.Context(), a))
		wantDefault(t, s, "t1", "a")
		wantDefault(t, s, "t2", "q1")
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		p := newPool(t, s, "t1", "p1", "linux", true, 0)
		newPool(t, s, "t1", "p2", "windows", false, time.Second)
		upd := *p
		upd.Name, upd.Image, upd.IsDefault, upd.MaxWorkers, upd.Capacity = "ubuntu", "ubuntu-24.04", false, 3, 2
		upd.HeartbeatInterval, upd.UnavailableAfter = time.Minute, time.Hour
		upd.HealthCheck = store.HealthCheck{Syntax: "sh", Script: "exit 0", Interval: time.Hour, Timeout: time.Second}
		upd.Type, upd.CreatedAt = "ignored", at(time.Hour)
		must(t, "update", s.PoolUpdate(t.Context(), &upd))
		got, err := s.PoolGet(t.Context(), "t1", "ubuntu")
		must(t, "get by new name", err)
		want := *p
		want.Name, want.Image, want.IsDefault, want.MaxWorkers, want.Capacity = "ubuntu", "ubuntu-24.04", false, 3, 2
		want.HeartbeatInterval, want.UnavailableAfter = time.Minute, time.Hour
		want.HealthCheck = upd.HealthCheck
		check(t, "pool after update (name, image, is_default, max_workers, capacity, machine policy, health check change)", got, &want)
		_, err = s.PoolGet(t.Context(), "t1", "linux")
		wantErr(t, "get by old name", err, store.ErrNotFound)

		upd.Name = "windows"
		wantErr(t, "rename to a taken name", s.PoolUpdate(t.Context(), &upd), store.ErrConflict)
		missing := upd
		missing.ID, missing.Name = "missing", "new"
		wantErr(t, "update unknown pool", s.PoolUpdate(t.Context(), &missing), store.ErrNotFound)
	})
	t.Run("HealthCheckChangeClearsOutcomes", func(t *testing.T) {
		// A new script (or none) clears the outcomes of the pool's
		// workers with the pool's update; a new interval keeps them.
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		p := newPool(t, s, "t1", "p1", "linux", true, 0)
		newPool(t, s, "t1", "p2", "other", false, time.Second)
		checked := func(w *store.Worker) {
			w.HealthStatus, w.HealthMessage, w.HealthCheckedAt = api.HealthFailed, "disk full", ptr(at(time.Minute))
		}
		newWorker(t, s, "w1", "t1", "p1", api.WorkerIdle, 0, checked)
		newWorker(t, s, "w2", "t1", "p2", api.WorkerIdle, 0, checked)
		status := func(id string) string {
			w, err := s.WorkerGet(t.Context(), id)
			must(t, "get worker", err)
			if w.HealthStatus == "" && (w.HealthMessage != "" || w.HealthCheckedAt != nil) {
				t.Errorf("worker %s: cleared status but message %q, checked at %v", id, w.HealthMessage, w.HealthCheckedAt)
			}
			return w.HealthStatus
		}
		p.HealthCheck = store.HealthCheck{Syntax: "bash", Script: "df /"}
		must(t, "add a check", s.PoolUpdate(t.Context(), p))
		if got := status("w1"); got != "" {
			t.Errorf("w1 after its pool's check changed: %q, want cleared", got)
		}
		if got := status("w2"); got != api.HealthFailed {
			t.Errorf("w2 of another pool: %q, want kept", got)
		}
		newWorker(t, s, "w3", "t1", "p1", api.WorkerIdle, time.Second, checked)
		p.HealthCheck.Interval = time.Hour
		must(t, "change the interval", s.PoolUpdate(t.Context(), p))
		if got := status("w3"); got != api.HealthFailed {
			t.Errorf("w3 after a new interval: %q, want kept", got)
		}
		p.HealthCheck = store.HealthCheck{}
		must(t, "remove the check", s.PoolUpdate(t.Context(), p))
		if got := status("w3"); got != "" {
			t.Errorf("w3 after the check was removed: %q, want cleared", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newPool(t, s, "t1", "p1", "linux", true, 0)
		keep := newPool(t, s, "t1", "p2", "windows", false, time.Second)
		must(t, "delete", s.PoolDelete(t.Context(), "t1", "p1"))
		_, err := s.PoolGet(t.Context(), "t1", "p1")
		wantErr(t, "get deleted pool", err, store.ErrNotFound)
		wantErr(t, "delete again", s.PoolDelete(t.Context(), "t1", "p1"), store.ErrNotFound)
		list, err := s.PoolList(t.Context(), "t1")
		must(t, "list", err)
		check(t, "PoolList after delete", list, []*store.Pool{keep})
	})
}
