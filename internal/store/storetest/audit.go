package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testAudit(t *testing.T, open opener) {
	t.Run("AppendAndList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		entries := []*store.AuditEntry{
			{Time: at(0), TenantID: "t1", Actor: "admin", Action: "tenant.create", Target: "t1", Detail: "named acme", Source: "10.0.0.1"},
			{Time: at(time.Second), TenantID: "t2", Actor: "admin", Action: "tenant.create", Target: "t2"},
			{Time: at(2 * time.Second), TenantID: "t1", Actor: "tenant acme", Action: "pool.create", Target: "p1", Detail: "image ubuntu-22.04"},
		}
		for _, e := range entries {
			must(t, "append", s.AuditAppend(t.Context(), e))
		}
		if entries[0].Seq < 1 || entries[1].Seq <= entries[0].Seq || entries[2].Seq <= entries[1].Seq {
			t.Fatalf("seqs %d %d %d, want increasing from 1", entries[0].Seq, entries[1].Seq, entries[2].Seq)
		}
		got, err := s.AuditList(t.Context(), &store.AuditListParams{TenantID: "t1", Limit: 10})
		must(t, "list t1", err)
		check(t, "t1's entries, newest first", got, []*store.AuditEntry{entries[2], entries[0]})
		all, err := s.AuditList(t.Context(), &store.AuditListParams{Limit: 2})
		must(t, "list all", err)
		check(t, "the 2 newest of all", all, []*store.AuditEntry{entries[2], entries[1]})
		if _, err := s.AuditList(t.Context(), &store.AuditListParams{}); err == nil {
			t.Error("AuditList without a limit succeeded")
		}
	})
}
