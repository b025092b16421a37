package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

func testLine(t *testing.T, open opener) {
	t.Run("FirstInFirstOutPerLine", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ttl := at(time.Minute)
		for _, w := range []struct{ line, id string }{{"t1/p1", "a"}, {"t2/p1", "x"}, {"t1/p1", "b"}, {"t1/p1", "c"}} {
			must(t, "join "+w.id, s.LineJoin(t.Context(), w.line, w.id, t0, ttl))
		}
		wantErr(t, "join twice", s.LineJoin(t.Context(), "t1/p1", "a", t0, ttl), store.ErrConflict)
		first := func(line, id string) string {
			t.Helper()
			got, err := s.LineFirst(t.Context(), line, id, t0, ttl)
			must(t, "first of "+line, err)
			return got
		}
		for _, want := range []string{"a", "b", "c", ""} {
			if got := first("t1/p1", ""); got != want {
				t.Fatalf("first of t1/p1 = %q, want %q", got, want)
			}
			if want != "" {
				must(t, "leave", s.LineLeave(t.Context(), want))
			}
		}
		if got := first("t2/p1", "x"); got != "x" {
			t.Errorf("first of t2/p1 = %q, want x (lines are independent)", got)
		}
		must(t, "leave twice", s.LineLeave(t.Context(), "a"))
		_, err := s.LineFirst(t.Context(), "t1/p1", "a", t0, ttl)
		wantErr(t, "renew a waiter that left", err, store.ErrNotFound)
		_, err = s.LineFirst(t.Context(), "t2/p1", "b", t0, ttl)
		wantErr(t, "renew a waiter of another line", err, store.ErrNotFound)
	})
	t.Run("ExpiredWaitersStopHoldingTheLine", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// "dead" was on a server that died: it is never renewed.
		must(t, "join dead", s.LineJoin(t.Context(), "t1/p1", "dead", t0, at(time.Minute)))
		must(t, "join live", s.LineJoin(t.Context(), "t1/p1", "live", t0, at(time.Minute)))
		got, err := s.LineFirst(t.Context(), "t1/p1", "live", at(30*time.Second), at(90*time.Second))
		must(t, "first", err)
		if got != "dead" {
			t.Fatalf("first before the expiry = %q, want dead", got)
		}
		got, err = s.LineFirst(t.Context(), "t1/p1", "live", at(time.Minute), at(2*time.Minute))
		must(t, "first", err)
		if got != "live" {
			t.Fatalf("first once dead expired = %q, want live (renewed)", got)
		}
		// A later join sweeps the expired waiter away.
		must(t, "join late", s.LineJoin(t.Context(), "t9/p9", "late", at(2*time.Minute), at(3*time.Minute)))
		_, err = s.LineFirst(t.Context(), "t1/p1", "dead", at(2*time.Minute), at(3*time.Minute))
		wantErr(t, "renew a swept waiter", err, store.ErrNotFound)
	})
}
