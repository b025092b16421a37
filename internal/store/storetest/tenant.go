package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// newTenant stores and returns a tenant with id, created d after t0.
func newTenant(t *testing.T, s store.Store, id string, d time.Duration) *store.Tenant {
	t.Helper()
	tn := &store.Tenant{ID: id, Name: "tenant " + id, APIKeyHash: "key-" + id, CreatedAt: at(d)}
	must(t, "create tenant "+id, s.TenantCreate(t.Context(), tn))
	return tn
}

func testTenant(t *testing.T, open opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := &store.Tenant{
			ID: "t1", Name: "Acme", APIKeyHash: "hash-1",
			IdleTimeout: 90 * time.Minute, MaxLifetime: 24 * time.Hour, MaxWorkers: 7,
			CreatedAt: t0,
		}
		must(t, "create", s.TenantCreate(t.Context(), want))
		got, err := s.TenantGet(t.Context(), "t1")
		must(t, "get", err)
		check(t, "TenantGet", got, want)
		got, err = s.TenantGetByKeyHash(t.Context(), "hash-1")
		must(t, "get by key hash", err)
		check(t, "TenantGetByKeyHash", got, want)
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "create", s.TenantCreate(t.Context(), &store.Tenant{ID: "nokey", Name: "no key", CreatedAt: t0}))
		_, err := s.TenantGet(t.Context(), "missing")
		wantErr(t, "get unknown id", err, store.ErrNotFound)
		_, err = s.TenantGetByKeyHash(t.Context(), "missing")
		wantErr(t, "get by unknown key hash", err, store.ErrNotFound)
		_, err = s.TenantGetByKeyHash(t.Context(), "")
		wantErr(t, "get by empty key hash", err, store.ErrNotFound)
		err = s.TenantUpdate(t.Context(), &store.Tenant{ID: "missing", MaxWorkers: 1})
		wantErr(t, "update unknown id", err, store.ErrNotFound)
	})
	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		err := s.TenantCreate(t.Context(), &store.Tenant{ID: "t1", Name: "again", APIKeyHash: "other", CreatedAt: t0})
		wantErr(t, "create with a taken id", err, store.ErrConflict)
		err = s.TenantCreate(t.Context(), &store.Tenant{ID: "t2", Name: "same key", APIKeyHash: "key-t1", CreatedAt: t0})
		wantErr(t, "create with a taken key hash", err, store.ErrConflict)
		err = s.TenantCreate(t.Context(), &store.Tenant{ID: "t3", Name: "tenant t1", APIKeyHash: "key-t3", CreatedAt: t0})
		wantErr(t, "create with a taken name", err, store.ErrConflict)
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		got, err := s.TenantList(t.Context())
		must(t, "list empty", err)
		if len(got) != 0 {
			t.Errorf("TenantList of an empty store = %d tenants, want 0", len(got))
		}
		b := newTenant(t, s, "b", time.Minute)
		a := newTenant(t, s, "a", 2*time.Minute)
		c := newTenant(t, s, "c", 0)
		got, err = s.TenantList(t.Context())
		must(t, "list", err)
		check(t, "TenantList (oldest first)", got, []*store.Tenant{c, b, a})
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		tn := newTenant(t, s, "t1", 0)
		upd := *tn
		upd.Name, upd.APIKeyHash = "ignored", "ignored"
		upd.IdleTimeout, upd.MaxLifetime, upd.MaxWorkers = 5*time.Minute, 2*time.Hour, 3
		must(t, "update", s.TenantUpdate(t.Context(), &upd))
		got, err := s.TenantGet(t.Context(), "t1")
		must(t, "get", err)
		want := *tn
		want.IdleTimeout, want.MaxLifetime, want.MaxWorkers = 5*time.Minute, 2*time.Hour, 3
		check(t, "tenant after update (only overrides change)", got, &want)

		upd.IdleTimeout, upd.MaxLifetime, upd.MaxWorkers = 0, 0, 0
		must(t, "reset overrides", s.TenantUpdate(t.Context(), &upd))
		got, err = s.TenantGet(t.Context(), "t1")
		must(t, "get", err)
		check(t, "tenant after resetting overrides", got, tn)
	})
}
