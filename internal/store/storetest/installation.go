package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func testInstallationID(t *testing.T, open opener) {
	t.Run("FirstProposalWins", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, proposed := range []string{"first", "second", "first"} {
			got, err := s.InstallationID(t.Context(), proposed)
			must(t, "installation id proposing "+proposed, err)
			if got != "first" {
				t.Errorf("installation id proposing %s = %q, want %q", proposed, got, "first")
			}
		}
	})
	t.Run("NoneProposed", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if id, err := s.InstallationID(t.Context(), ""); err == nil {
			t.Errorf("installation id proposing nothing = %q, want an error", id)
		}
		got, err := s.InstallationID(t.Context(), "x")
		must(t, "installation id", err)
		if got != "x" {
			t.Errorf("installation id after an empty proposal = %q, want %q (nothing recorded)", got, "x")
		}
	})
	t.Run("Race", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const servers = 16
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			proposed = make([]string, servers)
			got      = make([]string, servers)
		)
		for i := range servers {
			proposed[i] = fmt.Sprintf("server-%d", i)
			wg.Go(func() {
				<-start
				id, err := s.InstallationID(t.Context(), proposed[i])
				if err != nil {
					t.Errorf("installation id proposing %s: %v", proposed[i], err)
				}
				got[i] = id
			})
		}
		close(start)
		wg.Wait()
		if !slices.Contains(proposed, got[0]) {
			t.Errorf("installation id = %q, want one of the proposals", got[0])
		}
		for i, id := range got {
			if id != got[0] {
				t.Errorf("server %d got installation id %q, server 0 got %q", i, id, got[0])
			}
		}
	})
}
