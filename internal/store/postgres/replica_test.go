package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// TestReplicasShareInstallationAndTasks starts several Stores on one
// empty schema at once, as replicas would: all get the same installation
// id, and each task goes to exactly one of their claims.
func TestReplicasShareInstallationAndTasks(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	const replicas, tasks = 4, 8
	stores := make([]*Store, replicas)
	ids := make([]string, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			s, err := Open(t.Context(), u)
			if err != nil {
				t.Errorf("open replica %d: %v", i, err)
				return
			}
			stores[i] = s
			if ids[i], err = s.InstallationID(t.Context(), fmt.Sprintf("replica-%d", i)); err != nil {
				t.Errorf("installation id of replica %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("replica %d has installation id %q, replica 0 has %q", i, id, ids[0])
		}
	}

	now := time.Now()
	if err := stores[0].TenantCreate(t.Context(), &store.Tenant{ID: "t1", Name: "t1", CreatedAt: now}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	for i := range tasks {
		if err := stores[0].TaskCreate(t.Context(), &store.Task{ID: fmt.Sprintf("k%d", i), TenantID: "t1",
			Name: "k", State: "queued", CreatedAt: now}); err != nil {
			t.Fatalf("create task: %v", err)
		}
	}
	var (
		mu  sync.Mutex
		won = map[string]int{}
	)
	for i, s := range stores {
		wg.Go(func() {
			for k := range tasks {
				id := fmt.Sprintf("k%d", k)
				err := s.TaskClaim(t.Context(), &store.TaskClaimParams{ID: id, Owner: fmt.Sprintf("replica-%d", i),
					Until: now.Add(time.Minute), Now: now})
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Errorf("claim %s: %v", id, err)
					continue
				}
				mu.Lock()
				won[id]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for k := range tasks {
		if id := fmt.Sprintf("k%d", k); won[id] != 1 {
			t.Errorf("task %s claimed %d times, want once", id, won[id])
		}
	}
}
