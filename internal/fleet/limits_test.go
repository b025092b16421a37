package fleet_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

// limited runs Acquire until it first says what it waits for, then ends
// the wait and returns its error, which must name a limit. (A timeout
// instead of the wait's own word failed under load, when the store calls
// before the wait outlasted it.)
func (h *harness) limited(p *fleet.AcquireParams) error {
	h.t.Helper()
	ctx, cancel := context.WithCancel(h.t.Context())
	defer cancel()
	onWait := p.OnWait
	p.OnWait = func(reason string) {
		if onWait != nil {
			onWait(reason)
		}
		cancel() // it waits: end the wait, which then names what it waited for
	}
	_, err := h.fleet.Acquire(ctx, p)
	if !errors.Is(err, fleet.ErrLimitReached) || !errors.Is(err, context.Canceled) {
		h.t.Fatalf("acquire at a limit = %v, want a canceled wait naming the limit", err)
	}
	return err
}

// acquireAsync starts Acquire and returns where its worker arrives (nil
// when it failed); it does not play the agent. The Acquire ends with the
// test, which waits for it.
func (h *harness) acquireAsync(p *fleet.AcquireParams) <-chan *store.Worker {
	out := make(chan *store.Worker, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		w, err := h.fleet.Acquire(h.t.Context(), p)
		if err != nil {
			w = nil
		}
		out <- w
	}()
	h.t.Cleanup(func() { <-finished })
	return out
}

// registerNext plays the agent of the next worker the provider creates.
func (h *harness) registerNext() string {
	h.t.Helper()
	select {
	case id := <-h.prov.Created:
		if _, _, err := h.fleet.Register(h.t.Context(), h.prov.Token(id)); err != nil {
			h.t.Fatalf("register %s: %v", id, err)
		}
		return id
	case <-time.After(10 * time.Second):
		h.t.Fatal("no worker was created")
		return ""
	}
}

func TestProviderLimitHoldsAcrossTenants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *fleet.Config) { c.MaxWorkers = 2 })
	acme, globex := h.tenant("acme"), h.tenant("globex")
	held := h.acquire(params(acme, "1"))
	h.acquire(params(acme, "1"))
	err := h.limited(params(globex, "1"))
	if !strings.Contains(err.Error(), "the fake provider holds its maximum of 2 workers") {
		t.Fatalf("error = %v, want the provider limit named", err)
	}
	got := h.acquireAsync(params(globex, "1"))
	if err := h.fleet.Discard(t.Context(), held, api.DestroyIdleTimeout); err != nil {
		t.Fatalf("discard: %v", err)
	}
	h.registerNext()
	if w := <-got; w == nil || w.TenantID != globex.ID {
		t.Fatalf("globex got %+v once acme's worker went, want a worker of its own", w)
	}
}

func TestCreationsInFlightAreBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *fleet.Config) { c.MaxCreating = 1 })
	acme, globex := h.tenant("acme"), h.tenant("globex")
	first := h.acquireAsync(params(acme, "1"))
	var id string
	select {
	case id = <-h.prov.Created: // provisioning, not registered yet
	case <-time.After(10 * time.Second):
		t.Fatal("no worker was created")
	}
	err := h.limited(params(globex, "1"))
	if !strings.Contains(err.Error(), "the fake provider is creating 1 worker, the most at once") {
		t.Fatalf("error = %v, want the creations in flight named", err)
	}
	second := h.acquireAsync(params(globex, "1"))
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(id)); err != nil {
		t.Fatalf("register: %v", err)
	}
	if w := <-first; w == nil || w.ID != id {
		t.Fatalf("acme got %+v, want %s", w, id)
	}
	h.registerNext() // globex's creation went ahead once acme's ended
	if w := <-second; w == nil || w.TenantID != globex.ID {
		t.Fatalf("globex got %+v, want a worker of its own", w)
	}
}

func TestCreationRateIsPaced(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *fleet.Config) { c.CreateRate = 1 })
	acme, globex := h.tenant("acme"), h.tenant("globex")
	h.acquire(params(acme, "1")) // the token of this second
	waits := make(chan string, 10)
	p := params(globex, "1")
	p.OnWait = func(reason string) { waits <- reason }
	got := h.acquireAsync(p)
	if why := <-waits; !strings.Contains(why, "creation rate limit of 1 per second") {
		t.Fatalf("wait reason = %q, want the creation rate named", why)
	}
	h.clock.BlockUntilContext(t.Context(), 1) // the waiting Acquire's timer
	h.clock.Advance(time.Second)
	h.registerNext()
	if w := <-got; w == nil || w.TenantID != globex.ID {
		t.Fatalf("globex got %+v after a second, want its worker", w)
	}
}

// Steps of one pool that wait for a limit get workers first in, first out.
func TestWaitingStepsOfAPoolAreServedInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	acme.MaxWorkers = 1
	if err := h.store.TenantUpdate(t.Context(), acme); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	w := h.acquire(params(acme, "1"))
	var done []<-chan *store.Worker
	for range 3 {
		waits := make(chan string, 10)
		p := params(acme, "1")
		p.OnWait = func(reason string) { waits <- reason }
		done = append(done, h.acquireAsync(p))
		<-waits // in the line before the next one comes
	}
	for i, got := range done {
		if err := h.fleet.Release(t.Context(), w); err != nil {
			t.Fatalf("release: %v", err)
		}
		select {
		case w = <-got:
			if w == nil {
				t.Fatalf("waiter %d got no worker", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("waiter %d was not served next", i)
		}
		for j, other := range done[i+1:] {
			select {
			case <-other:
				t.Fatalf("waiter %d was served before waiter %d", i+1+j, i)
			default:
			}
		}
	}
}

// An idle worker a waiting step cannot use (another tenant's under the
// provider limit, another pool's under the tenant limit) is destroyed to
// make room, the least recently used first.
func TestIdleWorkersAreEvictedToMakeRoom(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *fleet.Config) { c.MaxWorkers = 2 })
	acme, globex := h.tenant("acme"), h.tenant("globex")
	older := h.acquire(params(acme, "1"))
	newer := h.acquire(params(acme, "1"))
	for _, w := range []*store.Worker{older, newer} {
		if err := h.fleet.Release(t.Context(), w); err != nil {
			t.Fatalf("release: %v", err)
		}
		h.clock.Advance(time.Minute)
	}
	if w := h.acquire(params(globex, "1")); w.TenantID != globex.ID {
		t.Fatalf("globex got %+v", w)
	}
	if got := h.worker(older.ID); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyEvicted {
		t.Errorf("acme's least recently used idle worker is %s (%s), want destroyed (evicted)", got.State, got.DestroyReason)
	}
	if got := h.worker(newer.ID); got.State != api.WorkerIdle {
		t.Errorf("acme's other idle worker is %s, want idle", got.State)
	}

	// Under the tenant's own limit, its idle worker of another pool goes.
	globex.MaxWorkers = 1
	if err := h.store.TenantUpdate(t.Context(), globex); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	if err := h.fleet.Release(t.Context(), h.worker(h.workersOf(globex)[0])); err != nil {
		t.Fatalf("release: %v", err)
	}
	other := params(globex, "1")
	other.PoolID = "p-2"
	if w := h.acquire(other); w.PoolID != "p-2" {
		t.Fatalf("globex's step on p-2 got %+v", w)
	}
}

// workersOf returns the ids of t's live workers.
func (h *harness) workersOf(t *store.Tenant) []string {
	h.t.Helper()
	ws, err := h.store.WorkerList(h.t.Context(), &store.WorkerListParams{TenantID: t.ID, States: fleet.LiveStates})
	if err != nil {
		h.t.Fatalf("list workers: %v", err)
	}
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.ID)
	}
	return ids
}

func TestPoolLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	pool := &store.Pool{ID: "p-1", TenantID: acme.ID, Name: "Linux", Type: api.PoolTypeDynamic, Image: "ubuntu-22.04",
		CreatedAt: h.clock.Now(), MaxWorkers: 1}
	if err := h.store.PoolCreate(t.Context(), pool); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	h.acquire(params(acme, "1"))
	err := h.limited(params(acme, "1"))
	if !strings.Contains(err.Error(), "pool Linux holds its maximum of 1 worker") {
		t.Fatalf("error = %v, want the pool limit named", err)
	}
	other := params(acme, "1")
	other.PoolID = "p-2" // no limit of its own
	if w := h.acquire(other); w.PoolID != "p-2" {
		t.Fatalf("a step of another pool got %+v", w)
	}
}

// A new worker is idle from its registration until the step that made it
// claims it; a step waiting at the provider limit must not evict it then.
// (The registration is written to the store directly, as when the agent
// registers through another replica: no local wake-up lets the creator
// claim first.)
func TestAWorkerJustRegisteredIsNotEvicted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *fleet.Config) { c.MaxWorkers = 1 })
	acme, globex := h.tenant("acme"), h.tenant("globex")
	got := h.acquireAsync(params(acme, "1"))
	id := <-h.prov.Created
	h.clock.BlockUntilContext(t.Context(), 1) // acme waits for the registration
	if _, err := h.store.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{
		ID: id, FromStates: []string{api.WorkerProvisioning}, State: api.WorkerIdle,
	}); err != nil {
		t.Fatalf("register: %v", err)
	}
	h.limited(params(globex, "1"))
	if w := h.worker(id); w.State == api.WorkerDestroyed {
		t.Fatalf("the worker acme's step made was destroyed (%s) before it could claim it", w.DestroyReason)
	}
	h.clock.Advance(time.Minute) // acme's recheck
	if w := <-got; w == nil || w.ID != id {
		t.Fatalf("acme got %+v, want its new worker %s", w, id)
	}
}

// The first of a line leaves it once its new worker is being made: a step
// behind it takes a worker released meanwhile instead of waiting for that
// registration.
func TestTheLineDoesNotWaitForARegistration(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	acme.MaxWorkers = 2
	if err := h.store.TenantUpdate(t.Context(), acme); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	w1, w2 := h.acquire(params(acme, "1")), h.acquire(params(acme, "1"))
	var got []<-chan *store.Worker
	for range 2 {
		waits := make(chan string, 10)
		p := params(acme, "1")
		p.OnWait = func(reason string) { waits <- reason }
		got = append(got, h.acquireAsync(p))
		<-waits
	}
	if err := h.fleet.Discard(t.Context(), w1, api.DestroyIdleTimeout); err != nil {
		t.Fatalf("discard: %v", err)
	}
	created := <-h.prov.Created // the first makes a worker; its agent is slow
	if err := h.fleet.Release(t.Context(), w2); err != nil {
		t.Fatalf("release: %v", err)
	}
	select {
	case w := <-got[1]:
		if w == nil || w.ID != w2.ID {
			t.Fatalf("the second step got %+v, want the released worker %s", w, w2.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second step waits for the first one's registration")
	}
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(created)); err != nil {
		t.Fatalf("register: %v", err)
	}
	if w := <-got[0]; w == nil || w.ID != created {
		t.Fatalf("the first step got %+v, want its new worker %s", w, created)
	}
}
