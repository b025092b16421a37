package fleet_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

// standbyConfig is a Config.Standby whose targets a test sets.
type standbyConfig struct {
	mu      sync.Mutex
	targets []fleet.StandbyTarget
}

func (s *standbyConfig) set(build string, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.targets = []fleet.StandbyTarget{{Target: fleet.Target{Image: "ubuntu-22.04", Build: build, OS: "linux"}, Count: count}}
}

func (s *standbyConfig) get(context.Context, time.Time) ([]fleet.StandbyTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.targets, nil
}

func standbyHarness(t *testing.T) (*harness, *standbyConfig) {
	t.Helper()
	sc := &standbyConfig{}
	h := newHarness(t, func(c *fleet.Config) { c.Standby = sc.get })
	return h, sc
}

// standby runs Standby, registers every worker it created and returns
// their ids.
func (h *harness) standby() []string {
	h.t.Helper()
	if err := h.fleet.Standby(h.t.Context()); err != nil {
		h.t.Fatalf("standby: %v", err)
	}
	var ids []string
	for {
		select {
		case id := <-h.prov.Created:
			if _, _, err := h.fleet.Register(h.t.Context(), h.prov.Token(id)); err != nil {
				h.t.Fatalf("register %s: %v", id, err)
			}
			ids = append(ids, id)
		default:
			return ids
		}
	}
}

func (h *harness) standbyIdle() []*store.Worker {
	h.t.Helper()
	ws, err := h.store.WorkerList(h.t.Context(), &store.WorkerListParams{Standby: true, States: []string{api.WorkerIdle}})
	if err != nil {
		h.t.Fatalf("list standby: %v", err)
	}
	return ws
}

func TestStandbyWorkerIsLeasedForGoodAndReplaced(t *testing.T) {
	t.Parallel()
	h, sc := standbyHarness(t)
	sc.set("1", 1)
	made := h.standby()
	if len(made) != 1 {
		t.Fatalf("standby workers made = %v, want 1", made)
	}
	if w := h.worker(made[0]); w.TenantID != "" || w.State != api.WorkerIdle || w.LeasedAt != nil {
		t.Fatalf("standby worker = tenant %q state %s leased %v; want idle of no tenant", w.TenantID, w.State, w.LeasedAt)
	}
	acme := h.tenant("acme")
	w := h.acquire(params(acme, "1"))
	if w.ID != made[0] || w.TenantID != acme.ID || w.PoolID != "p-1" || w.State != api.WorkerBusy || w.LeasedAt == nil {
		t.Fatalf("acme's first step got %+v, want the standby worker %s leased to it", w, made[0])
	}
	if len(h.prov.Created) != 0 {
		t.Fatal("a worker was created for the step although a standby worker was there")
	}
	replacement := h.standby()
	if len(replacement) != 1 || replacement[0] == w.ID {
		t.Fatalf("replacement = %v, want one new standby worker", replacement)
	}
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	if got := h.worker(w.ID); got.TenantID != acme.ID || got.State != api.WorkerIdle {
		t.Fatalf("released standby-born worker = tenant %q state %s, want acme's and idle", got.TenantID, got.State)
	}
	// Another tenant gets the replacement, never acme's idle worker.
	globex := h.tenant("globex")
	other := h.acquire(params(globex, "1"))
	if other.ID != replacement[0] {
		t.Fatalf("globex got %s, want the replacement standby worker %s (acme's idle one is %s)", other.ID, replacement[0], w.ID)
	}
}

func TestStandbyCountsFollowTheTargets(t *testing.T) {
	t.Parallel()
	h, sc := standbyHarness(t)
	sc.set("1", 2)
	if made := h.standby(); len(made) != 2 {
		t.Fatalf("made %v, want 2", made)
	}
	if again := h.standby(); len(again) != 0 {
		t.Fatalf("a second run at the same count made %v, want none", again)
	}
	sc.set("1", 1)
	h.standby()
	if idle := h.standbyIdle(); len(idle) != 1 {
		t.Fatalf("after lowering the count to 1: %d idle standby workers", len(idle))
	}
	gone, err := h.store.WorkerList(t.Context(), &store.WorkerListParams{Standby: true, States: []string{api.WorkerDestroyed}})
	if err != nil || len(gone) != 1 || gone[0].DestroyReason != api.DestroyStandbySurplus {
		t.Fatalf("destroyed standby workers = %+v, %v; want one, standby-surplus", gone, err)
	}
	old := h.standbyIdle()[0]
	sc.set("2", 1) // a rebuild
	if made := h.standby(); len(made) != 1 || h.worker(made[0]).Build != "2" {
		t.Fatalf("after a rebuild made %v, want one of build 2", made)
	}
	if got := h.worker(old.ID); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyImageRebuilt {
		t.Fatalf("standby worker of the old build is %s (%s), want destroyed for image-rebuilt", got.State, got.DestroyReason)
	}
	last := h.standbyIdle()[0]
	sc.set("2", 0) // explicit zero
	h.standby()
	if idle := h.standbyIdle(); len(idle) != 0 {
		t.Fatalf("count 0 left %d standby workers", len(idle))
	}
	if got := h.worker(last.ID); got.DestroyReason != api.DestroyStandbySurplus {
		t.Errorf("standby worker removed by a count of 0: reason %s, want standby-surplus", got.DestroyReason)
	}
}

func TestStandbyWorkersExpireAtMaxLifetimeOnly(t *testing.T) {
	t.Parallel()
	h, sc := standbyHarness(t)
	sc.set("1", 1)
	id := h.standby()[0]
	h.clock.Advance(fleet.DefaultIdleTimeout + time.Minute)
	h.reap()
	if got := h.worker(id).State; got != api.WorkerIdle {
		t.Fatalf("standby worker idle past the idle timeout is %s, want idle (it waits for a tenant)", got)
	}
	h.clock.Advance(fleet.DefaultMaxLifetime)
	h.reap()
	if got := h.worker(id); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyMaxLifetime {
		t.Fatalf("standby worker at max lifetime is %s (%s), want destroyed for max-lifetime", got.State, got.DestroyReason)
	}
	if made := h.standby(); len(made) != 1 {
		t.Fatalf("replacement of the expired standby worker: %v, want 1", made)
	}
}

func TestStandbyCreationFailureBacksOff(t *testing.T) {
	t.Parallel()
	h, sc := standbyHarness(t)
	sc.set("1", 1)
	h.prov.FailCreates(errors.New("quota exceeded"))
	err := h.fleet.Standby(t.Context())
	if err == nil || !strings.Contains(err.Error(), "quota exceeded") || !strings.Contains(err.Error(), "next try in 1s") {
		t.Fatalf("standby with a failing provider = %v, want the provider's error and the backoff", err)
	}
	h.prov.FailCreates(nil)
	if made := h.standby(); len(made) != 0 {
		t.Fatalf("standby within the backoff made %v, want none", made)
	}
	h.clock.Advance(time.Second)
	if made := h.standby(); len(made) != 1 {
		t.Fatalf("standby after the backoff made %v, want 1", made)
	}
}
