package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// acquire calls WorkerAcquireIdle for tenant t1, pool p1, image
// ubuntu-22.04, build b1 at now.
func acquire(t *testing.T, s store.Store, now time.Time) (*store.Worker, error) {
	t.Helper()
	return s.WorkerAcquireIdle(t.Context(), &store.WorkerAcquireIdleParams{TenantID: "t1", PoolID: "p1",
		Image: "ubuntu-22.04", Build: "b1", Now: now})
}

// acquireAtOnce calls acquire n times at once and returns how many times
// each worker was handed out and how many calls found none.
func acquireAtOnce(t *testing.T, n int, acquire func() (*store.Worker, error)) (got map[string]int, notFound int) {
	t.Helper()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	got = map[string]int{}
	for range n {
		wg.Go(func() {
			w, err := acquire()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, store.ErrNotFound):
				notFound++
			case err != nil:
				t.Errorf("acquire: %v", err)
			default:
				got[w.ID]++
			}
		})
	}
	wg.Wait()
	return got, notFound
}

func testWorkerAcquireIdle(t *testing.T, open opener) {
	t.Run("LeastRecentlyUsedFirst", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		used := func(d time.Duration) func(*store.Worker) {
			return func(w *store.Worker) { w.LastUsedAt, w.DestroyAt = ptr(at(d)), ptr(at(time.Hour)) }
		}
		// Creation order (recent, fresh, old) differs from LRU order either way.
		newWorker(t, s, "recent", "t1", "p1", api.WorkerIdle, 0, used(2*time.Minute))
		fresh := newWorker(t, s, "fresh", "t1", "p1", api.WorkerIdle, time.Second, nil)
		newWorker(t, s, "old", "t1", "p1", api.WorkerIdle, 2*time.Second, used(time.Minute))
		for _, id := range []string{"fresh", "old", "recent"} {
			got, err := acquire(t, s, at(3*time.Minute))
			must(t, "acquire", err)
			if got.ID != id || got.State != api.WorkerBusy {
				t.Fatalf("acquired %s in state %s, want %s busy", got.ID, got.State, id)
			}
		}
		_, err := acquire(t, s, at(3*time.Minute))
		wantErr(t, "acquire with every worker busy", err, store.ErrNotFound)
		got, err := s.WorkerGet(t.Context(), "fresh")
		must(t, "get", err)
		want := *fresh
		want.State, want.Leases = api.WorkerBusy, 1
		check(t, "acquired worker (only the state and its leases change)", got, &want)
	})
	t.Run("SkipsNonMatching", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now := at(time.Hour)
		for _, tc := range []struct {
			id     string
			mutate func(*store.Worker)
		}{
			{"other-tenant", func(w *store.Worker) { w.TenantID = "t2" }},
			{"standby", func(w *store.Worker) { w.TenantID, w.PoolID = "", "" }},
			{"other-pool", func(w *store.Worker) { w.PoolID = "p2" }},
			{"other-image", func(w *store.Worker) { w.Image = "ubuntu-24.04" }},
			{"other-build", func(w *store.Worker) { w.Build = "b0" }},
			{"disabled", func(w *store.Worker) { w.Disabled = true }},
			{"health-check-failed", func(w *store.Worker) { w.HealthStatus = api.HealthFailed }},
			{"busy", func(w *store.Worker) { w.State = api.WorkerBusy }},
			{"draining", func(w *store.Worker) { w.State = api.WorkerDraining }},
			{"provisioning", func(w *store.Worker) { w.State = api.WorkerProvisioning }},
			{"expired", func(w *store.Worker) { w.DestroyAt = ptr(now.Add(-time.Second)) }},
			{"due-now", func(w *store.Worker) { w.DestroyAt = ptr(now) }},
		} {
			newWorker(t, s, tc.id, "t1", "p1", api.WorkerIdle, 0, tc.mutate)
		}
		_, err := acquire(t, s, now)
		wantErr(t, "acquire with no matching idle worker", err, store.ErrNotFound)

		newWorker(t, s, "match", "t1", "p1", api.WorkerIdle, time.Second, func(w *store.Worker) {
			w.DestroyAt = ptr(now.Add(time.Microsecond))
		})
		got, err := acquire(t, s, now)
		must(t, "acquire", err)
		if got.ID != "match" {
			t.Errorf("acquired %s, want match", got.ID)
		}
		list, err := s.WorkerList(t.Context(), &store.WorkerListParams{States: []string{api.WorkerBusy}})
		must(t, "list busy", err)
		if len(list) != 2 {
			t.Errorf("busy workers after acquire = %d, want 2 (busy and match)", len(list))
		}
	})
	t.Run("HealthWarningStillServes", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// A warning is shown, not acted on; a later passing check clears a
		// failure, and the worker serves again.
		newWorker(t, s, "warned", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) { w.HealthStatus = api.HealthWarning })
		newWorker(t, s, "failed", "t1", "p1", api.WorkerIdle, time.Second, func(w *store.Worker) { w.HealthStatus = api.HealthFailed })
		got, err := acquire(t, s, t0)
		must(t, "acquire the warned worker", err)
		if got.ID != "warned" {
			t.Fatalf("acquired %s, want warned", got.ID)
		}
		_, err = acquire(t, s, t0)
		wantErr(t, "acquire with only a failed worker idle", err, store.ErrNotFound)
		_, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "failed", HealthStatus: ptr(api.HealthHealthy)})
		must(t, "record a passing check", err)
		got, err = acquire(t, s, t0)
		must(t, "acquire after the check passed", err)
		if got.ID != "failed" {
			t.Errorf("acquired %s, want failed (healthy again)", got.ID)
		}
	})
	t.Run("Race", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const idle, acquirers = 10, 40
		for i := range idle {
			newWorker(t, s, fmt.Sprintf("w%02d", i), "t1", "p1", api.WorkerIdle, time.Duration(i)*time.Second, nil)
		}
		got, notFound := acquireAtOnce(t, acquirers, func() (*store.Worker, error) { return acquire(t, s, t0) })
		for id, n := range got {
			if n > 1 {
				t.Errorf("worker %s handed out %d times", id, n)
			}
		}
		if len(got) != idle || notFound != acquirers-idle {
			t.Errorf("%d workers acquired and %d not found, want %d and %d", len(got), notFound, idle, acquirers-idle)
		}
	})
	t.Run("Capacity", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newWorker(t, s, "idle", "t1", "p1", api.WorkerIdle, 0, nil)
		newWorker(t, s, "busy", "t1", "p1", api.WorkerBusy, time.Second, nil)
		newWorker(t, s, "old", "t1", "p1", api.WorkerBusy, -time.Hour, nil)
		take := func(capacity int) (*store.Worker, error) {
			return s.WorkerAcquireIdle(t.Context(), &store.WorkerAcquireIdleParams{TenantID: "t1", PoolID: "p1",
				Image: "ubuntu-22.04", Build: "b1", Now: t0, Capacity: capacity, CreatedAfter: at(-time.Minute)})
		}
		// The busiest worker with a free place first; "old" is past
		// CreatedAfter (its max lifetime) and gets no more steps.
		for i, want := range []struct {
			id     string
			leases int
		}{{"busy", 2}, {"busy", 3}, {"idle", 1}, {"idle", 2}, {"idle", 3}} {
			got, err := take(3)
			must(t, fmt.Sprintf("acquire %d", i), err)
			if got.ID != want.id || got.State != api.WorkerBusy || got.Leases != want.leases {
				t.Fatalf("acquire %d: %s %s with %d leases, want %s busy with %d", i, got.ID, got.State, got.Leases, want.id, want.leases)
			}
		}
		_, err := take(3)
		wantErr(t, "acquire with every place taken", err, store.ErrNotFound)

		_, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "busy", FromStates: []string{api.WorkerBusy},
			State: api.WorkerIdle, LastLease: true})
		wantErr(t, "end the last lease of a worker holding 3", err, store.ErrConflict)
		for _, want := range []int{2, 1} {
			w, err := s.WorkerReleaseLease(t.Context(), "busy")
			must(t, "release a lease", err)
			if w.State != api.WorkerBusy || w.Leases != want {
				t.Fatalf("after releasing a lease: %s with %d leases, want busy with %d", w.State, w.Leases, want)
			}
		}
		_, err = s.WorkerReleaseLease(t.Context(), "busy")
		wantErr(t, "release the last lease as if it were not", err, store.ErrConflict)
		w, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "busy", FromStates: []string{api.WorkerBusy},
			State: api.WorkerIdle, LastLease: true})
		must(t, "end the last lease", err)
		if w.State != api.WorkerIdle || w.Leases != 0 {
			t.Errorf("after the last lease: %s with %d leases, want idle with 0", w.State, w.Leases)
		}
		_, err = s.WorkerReleaseLease(t.Context(), "busy")
		wantErr(t, "release a lease of an idle worker", err, store.ErrConflict)
		_, err = s.WorkerReleaseLease(t.Context(), "missing")
		wantErr(t, "release a lease of an unknown worker", err, store.ErrNotFound)
		w, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "idle", State: api.WorkerDestroying})
		must(t, "destroy", err)
		if w.Leases != 0 {
			t.Errorf("a destroying worker holds %d leases, want 0", w.Leases)
		}
	})
	t.Run("CapacityRace", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const workers, capacity, acquirers = 4, 3, 30
		for i := range workers {
			newWorker(t, s, fmt.Sprintf("w%d", i), "t1", "p1", api.WorkerIdle, time.Duration(i)*time.Second, nil)
		}
		got, notFound := acquireAtOnce(t, acquirers, func() (*store.Worker, error) {
			return s.WorkerAcquireIdle(t.Context(), &store.WorkerAcquireIdleParams{TenantID: "t1", PoolID: "p1",
				Image: "ubuntu-22.04", Build: "b1", Now: t0, Capacity: capacity})
		})
		for id, n := range got {
			w, err := s.WorkerGet(t.Context(), id)
			must(t, "get", err)
			if n > capacity || w.Leases != n {
				t.Errorf("worker %s handed out %d times and holds %d leases, want at most %d and equal", id, n, w.Leases, capacity)
			}
		}
		// SKIP LOCKED may pass over a worker being leased: fewer, never more.
		if taken := acquirers - notFound; taken > workers*capacity {
			t.Errorf("%d leases taken, more than the %d places", taken, workers*capacity)
		}
	})
}
