package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testAPIKey(t *testing.T, open opener) {
	t.Run("FirstKeyComesWithTheTenant", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "create", s.TenantCreate(t.Context(), &store.Tenant{ID: "t1", Name: "Acme", APIKeyHash: "hash-1", APIKeyPrefix: "dpk_abc", CreatedAt: t0}))
		keys, err := s.APIKeyList(t.Context(), "t1")
		must(t, "list", err)
		check(t, "APIKeyList", keys, []*store.APIKey{{ID: "k-t1", TenantID: "t1", Prefix: "dpk_abc", KeyHash: "hash-1", CreatedAt: t0}})
		must(t, "create keyless", s.TenantCreate(t.Context(), &store.Tenant{ID: "t2", Name: "no key", CreatedAt: t0}))
		keys, err = s.APIKeyList(t.Context(), "t2")
		must(t, "list keyless", err)
		if len(keys) != 0 {
			t.Fatalf("a tenant created without a key has keys %+v", keys)
		}
	})
	t.Run("CreateListDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		second := &store.APIKey{ID: "k-2", TenantID: "t1", Prefix: "dpk_two", KeyHash: "hash-two", CreatedAt: at(time.Minute)}
		must(t, "create", s.APIKeyCreate(t.Context(), second))
		got, err := s.TenantGetByKeyHash(t.Context(), "hash-two")
		must(t, "get by the second key", err)
		if got.ID != "t1" {
			t.Fatalf("the second key finds %s, want t1", got.ID)
		}
		keys, err := s.APIKeyList(t.Context(), "t1")
		must(t, "list", err)
		check(t, "APIKeyList", keys, []*store.APIKey{
			{ID: "k-t1", TenantID: "t1", KeyHash: "key-t1", CreatedAt: t0}, second,
		})
		wantErr(t, "delete another tenant's key", s.APIKeyDelete(t.Context(), "t2", "k-2"), store.ErrNotFound)
		must(t, "delete the first key", s.APIKeyDelete(t.Context(), "t1", "k-t1"))
		_, err = s.TenantGetByKeyHash(t.Context(), "key-t1")
		wantErr(t, "get by a deleted key", err, store.ErrNotFound)
		if _, err := s.TenantGetByKeyHash(t.Context(), "hash-two"); err != nil {
			t.Fatalf("the remaining key stopped working: %v", err)
		}
		wantErr(t, "delete it again", s.APIKeyDelete(t.Context(), "t1", "k-t1"), store.ErrNotFound)
	})
	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		err := s.APIKeyCreate(t.Context(), &store.APIKey{ID: "k-x", TenantID: "t1", KeyHash: "key-t1", CreatedAt: t0})
		wantErr(t, "create with a taken hash", err, store.ErrConflict)
		err = s.APIKeyCreate(t.Context(), &store.APIKey{ID: "k-t1", TenantID: "t1", KeyHash: "fresh", CreatedAt: t0})
		wantErr(t, "create with a taken id", err, store.ErrConflict)
		err = s.APIKeyCreate(t.Context(), &store.APIKey{ID: "k-y", TenantID: "missing", KeyHash: "other", CreatedAt: t0})
		wantErr(t, "create for an unknown tenant", err, store.ErrNotFound)
	})
}
