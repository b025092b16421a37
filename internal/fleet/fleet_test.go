package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/fake"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/sqlite"
)

type harness struct {
	t     *testing.T
	clock *clockwork.FakeClock
	store store.Store
	prov  *fake.Provider
	fleet *fleet.Fleet
	// cfg is the configuration fleet was made with.
	cfg  fleet.Config
	lost chan string
	// retired maps a worker id to the reason Config.Retire gives for it.
	retired sync.Map
}

func newHarness(t *testing.T, mutate ...func(*fleet.Config)) *harness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "dynpool.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{
		t: t, clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)),
		store: st, prov: fake.New(), lost: make(chan string, 10),
	}
	cfg := fleet.Config{
		Installation: "inst-test", ServerURL: "http://127.0.0.1:1",
		OnLost: func(w *store.Worker, reason string) { h.lost <- w.ID + ": " + reason },
		Retire: func(_ context.Context, w *store.Worker) (string, error) {
			reason, _ := h.retired.Load(w.ID)
			s, _ := reason.(string)
			return s, nil
		},
		Clock: h.clock, Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h.cfg = cfg
	h.fleet, err = fleet.New(cfg, st, h.prov)
	if err != nil {
		t.Fatalf("new fleet: %v", err)
	}
	return h
}

func (h *harness) tenant(name string) *store.Tenant {
	h.t.Helper()
	t := &store.Tenant{ID: "t-" + name, Name: name, APIKeyHash: "hash-" + name, CreatedAt: h.clock.Now()}
	if err := h.store.TenantCreate(h.t.Context(), t); err != nil {
		h.t.Fatalf("create tenant: %v", err)
	}
	return t
}

func params(t *store.Tenant, build string) *fleet.AcquireParams {
	target := &fleet.Target{Image: "ubuntu-22.04", Build: build, OS: "linux"}
	return &fleet.AcquireParams{Tenant: t, PoolID: "p-1", Target: func(context.Context) (*fleet.Target, error) { return target, nil }}
}

// acquire runs Acquire while playing the agent: every worker the provider
// creates meanwhile registers at once.
func (h *harness) acquire(p *fleet.AcquireParams) *store.Worker {
	h.t.Helper()
	type result struct {
		w   *store.Worker
		err error
	}
	done := make(chan result, 1)
	go func() {
		w, err := h.fleet.Acquire(h.t.Context(), p)
		done <- result{w, err}
	}()
	for {
		select {
		case id := <-h.prov.Created:
			if _, _, err := h.fleet.Register(h.t.Context(), h.prov.Token(id)); err != nil {
				h.t.Fatalf("register %s: %v", id, err)
			}
		case r := <-done:
			if r.err != nil {
				h.t.Fatalf("acquire: %v", r.err)
			}
			return r.w
		case <-time.After(10 * time.Second):
			h.t.Fatal("acquire did not return")
		}
	}
}

func (h *harness) worker(id string) *store.Worker {
	h.t.Helper()
	w, err := h.store.WorkerGet(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("get worker %s: %v", id, err)
	}
	return w
}

func (h *harness) reap() {
	h.t.Helper()
	if err := h.fleet.Reap(h.t.Context()); err != nil {
		h.t.Fatalf("reap: %v", err)
	}
}

func TestAcquireReusesIdleWorkerOfSameTenantPoolAndBuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	w1 := h.acquire(params(acme, "1"))
	if w1.State != api.WorkerBusy || w1.TenantID != acme.ID || w1.LeasedAt == nil {
		t.Fatalf("new worker = %+v, want busy and leased to %s", w1, acme.ID)
	}
	if err := h.fleet.Release(t.Context(), w1); err != nil {
		t.Fatalf("release: %v", err)
	}
	h.clock.Advance(10 * time.Minute)
	w2 := h.acquire(params(acme, "1"))
	if w2.ID != w1.ID {
		t.Fatalf("second acquire got %s, want the idle worker %s", w2.ID, w1.ID)
	}
	if err := h.fleet.Release(t.Context(), w2); err != nil {
		t.Fatalf("release: %v", err)
	}
	w3 := h.acquire(params(acme, "2"))
	if w3.ID == w1.ID {
		t.Fatal("a step for build 2 got a worker of build 1")
	}
}

func TestWorkerNeverServesAnotherTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme, globex := h.tenant("acme"), h.tenant("globex")
	w := h.acquire(params(acme, "1"))
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	other := h.acquire(params(globex, "1"))
	if other.ID == w.ID || other.TenantID != globex.ID {
		t.Fatalf("globex got worker %s of tenant %s; acme's idle worker is %s", other.ID, other.TenantID, w.ID)
	}
}

func TestReaperDestroysIdleWorkerAtIdleTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.acquire(params(h.tenant("acme"), "1"))
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	h.clock.Advance(fleet.DefaultIdleTimeout - time.Second)
	h.reap()
	if got := h.worker(w.ID).State; got != api.WorkerIdle {
		t.Fatalf("one second before the idle timeout the worker is %s, want idle", got)
	}
	h.clock.Advance(time.Second)
	h.reap()
	got := h.worker(w.ID)
	if got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyIdleTimeout {
		t.Fatalf("at the idle timeout worker is %s (%s), want destroyed (idle-timeout)", got.State, got.DestroyReason)
	}
	if got := h.prov.Destroyed(); len(got) != 1 || got[0] != w.ResourceID {
		t.Fatalf("provider destroyed %v, want [%s]", got, w.ResourceID)
	}
}

func TestMaxLifetimeLetsTheStepFinishThenDestroys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	w := h.acquire(params(acme, "1"))
	// A step runs past the 72 h max lifetime: the reaper leaves the busy
	// worker alone, and release destroys it instead of idling it.
	h.clock.Advance(fleet.DefaultMaxLifetime + time.Hour)
	h.reap()
	if got := h.worker(w.ID).State; got != api.WorkerBusy {
		t.Fatalf("busy worker past max lifetime is %s, want busy until its step ends", got)
	}
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	got := h.worker(w.ID)
	if got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyMaxLifetime {
		t.Fatalf("released worker past max lifetime is %s (%s), want destroyed (max-lifetime)", got.State, got.DestroyReason)
	}
}

func TestIdleWorkerNearMaxLifetimeTakesNoNewStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	w := h.acquire(params(acme, "1"))
	h.clock.Advance(fleet.DefaultMaxLifetime - 30*time.Minute)
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	if got := h.worker(w.ID).DestroyAt; got == nil || !got.Equal(w.CreatedAt.Add(fleet.DefaultMaxLifetime)) {
		t.Fatalf("destroy_at = %v, want the max lifetime %v (earlier than the idle timeout)", got, w.CreatedAt.Add(fleet.DefaultMaxLifetime))
	}
	h.clock.Advance(30 * time.Minute)
	next := h.acquire(params(acme, "1"))
	if next.ID == w.ID {
		t.Fatal("a worker at its max lifetime took a new step")
	}
	h.reap()
	if got := h.worker(w.ID); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyMaxLifetime {
		t.Fatalf("worker at max lifetime is %s (%s), want destroyed (max-lifetime)", got.State, got.DestroyReason)
	}
}

func TestTenantOverrideMovesIdleDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	w := h.acquire(params(acme, "1"))
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	acme.IdleTimeout = 90 * time.Minute
	if err := h.store.TenantUpdate(t.Context(), acme); err != nil {
		t.Fatalf("update tenant: %v", err)
	}
	if err := h.fleet.TenantChanged(t.Context(), acme); err != nil {
		t.Fatalf("tenant changed: %v", err)
	}
	h.clock.Advance(60 * time.Minute)
	h.reap()
	if got := h.worker(w.ID).State; got != api.WorkerIdle {
		t.Fatalf("after 60 min with a 90 min override the worker is %s, want idle", got)
	}
	h.clock.Advance(30 * time.Minute)
	h.reap()
	if got := h.worker(w.ID).State; got != api.WorkerDestroyed {
		t.Fatalf("after 90 min the worker is %s, want destroyed", got)
	}
}

func TestWorkerThatNeverRegistersIsDestroyed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	errc := make(chan error, 1)
	go func() {
		_, err := h.fleet.Acquire(t.Context(), params(h.tenant("acme"), "1"))
		errc <- err
	}()
	id := <-h.prov.Created
	// The registration timeout runs from the end of the creation.
	eventually.Holds(t, "the creation to be recorded", 10*time.Second, func() bool {
		return h.worker(id).ResourceID != ""
	})
	h.clock.Advance(fleet.DefaultRegistrationTimeout)
	h.reap()
	if got := h.worker(id); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyRegistration {
		t.Fatalf("worker is %s (%s), want destroyed (registration-timeout)", got.State, got.DestroyReason)
	}
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "registration-timeout") {
			t.Fatalf("acquire error = %v, want one naming registration-timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("acquire still waits for a destroyed worker")
	}
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(id)); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("late registration error = %v, want ErrUnknownAgent", err)
	}
}

func TestRegistrationTokenIsSingleUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.acquire(params(h.tenant("acme"), "1"))
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(w.ID)); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("replayed registration error = %v, want ErrUnknownAgent", err)
	}
}

func TestCreateFailureIsRetriedAndReportedWithTheProviderText(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.prov.FailCreates(errors.New("quota exceeded in region"))
	waits := make(chan string, 10)
	p := params(h.tenant("acme"), "1")
	p.OnWait = func(reason string) { waits <- reason }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := h.fleet.Acquire(ctx, p)
		errc <- err
	}()
	if why := <-waits; !strings.Contains(why, "quota exceeded in region") || !strings.Contains(why, "trying again in 1s") {
		t.Fatalf("wait reason = %q, want the provider's text and the backoff", why)
	}
	// The backoff runs on the injected clock: one second later it tries
	// again, and its failure doubles the backoff.
	if err := h.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("wait for the backoff timer: %v", err)
	}
	h.clock.Advance(time.Second)
	if why := <-waits; !strings.Contains(why, "trying again in 2s") {
		t.Fatalf("second wait reason = %q, want a doubled backoff", why)
	}
	cancel()
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "quota exceeded in region") {
		t.Fatalf("acquire error = %v, want the provider's text", err)
	}
	ws, _ := h.store.WorkerList(t.Context(), &store.WorkerListParams{})
	for _, w := range ws {
		if w.State != api.WorkerDestroyed || w.DestroyReason != api.DestroyCreateFailed {
			t.Fatalf("worker after a failed create = %s (%s), want destroyed (create-failed)", w.State, w.DestroyReason)
		}
	}
	if len(ws) != 2 {
		t.Fatalf("%d worker rows, want one per attempt (2)", len(ws))
	}
}

func TestCreateSucceedsOnceTheProviderRecovers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.prov.FailCreates(errors.New("temporarily out of capacity"))
	waits := make(chan string, 10)
	p := params(h.tenant("acme"), "1")
	p.OnWait = func(reason string) { waits <- reason }
	go func() {
		<-waits
		h.prov.FailCreates(nil)
		if err := h.clock.BlockUntilContext(t.Context(), 1); err == nil {
			h.clock.Advance(time.Second)
		}
	}()
	if w := h.acquire(p); w.State != api.WorkerBusy {
		t.Fatalf("worker after recovery = %s, want busy", w.State)
	}
}

func TestWorkerLimitMakesAcquireWait(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	acme.MaxWorkers = 1
	if err := h.store.TenantUpdate(t.Context(), acme); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	w := h.acquire(params(acme, "1"))
	h.limited(params(acme, "2"))
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	again := h.acquire(params(acme, "1"))
	if again.ID != w.ID {
		t.Fatalf("after release got %s, want the released worker %s", again.ID, w.ID)
	}
}

func TestReconcileDestroysOrphansAndMarksLostWorkers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.acquire(params(h.tenant("acme"), "1"))
	orphan := &provider.Resource{ID: "res-w-orphan", Labels: map[string]string{provider.LabelWorker: "w-orphan"}}
	h.prov.Leave(orphan)
	h.prov.Vanish(w.ResourceID) // the machine vanished under a busy worker
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if h.prov.Has(orphan.ID) {
		t.Fatal("orphan resource was not destroyed")
	}
	got := h.worker(w.ID)
	if got.State != api.WorkerLost || got.DestroyReason != api.DestroyWorkerLost {
		t.Fatalf("worker whose resource vanished is %s (%s), want lost (worker-lost)", got.State, got.DestroyReason)
	}
	select {
	case msg := <-h.lost:
		if !strings.Contains(msg, w.ID) || !strings.Contains(msg, "gone") {
			t.Fatalf("OnLost got %q, want the worker and why", msg)
		}
	default:
		t.Fatal("OnLost was not called")
	}
}

// A machine whose agent exited is listed Stopped: its worker is lost, and
// a stopped machine of no known worker is an orphan like any other.
func TestReconcileTreatsAStoppedMachineAsGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.acquire(params(h.tenant("acme"), "1"))
	h.prov.Stop(w.ResourceID)
	orphan := &provider.Resource{ID: "res-w-orphan", Labels: map[string]string{provider.LabelWorker: "w-orphan"}, Stopped: true}
	h.prov.Leave(orphan)
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if h.prov.Has(orphan.ID) {
		t.Error("stopped orphan resource was not destroyed")
	}
	if got := h.worker(w.ID); got.State != api.WorkerLost {
		t.Errorf("worker whose machine stopped is %s, want lost", got.State)
	}
}

func TestSilentAgentIsLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.acquire(params(h.tenant("acme"), "1"))
	h.clock.Advance(fleet.DefaultHeartbeatTimeout / 2)
	if err := h.fleet.Heartbeat(t.Context(), w, fleet.HeartbeatParams{}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	h.clock.Advance(fleet.DefaultHeartbeatTimeout)
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if got := h.worker(w.ID).State; got != api.WorkerBusy {
		t.Fatalf("worker that sent a heartbeat %s ago is %s, want busy", fleet.DefaultHeartbeatTimeout, got)
	}
	h.clock.Advance(time.Second)
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if got := h.worker(w.ID).State; got != api.WorkerLost {
		t.Fatalf("silent worker is %s, want lost", got)
	}
	if msg := <-h.lost; !strings.Contains(msg, "no heartbeat") {
		t.Fatalf("lost reason %q does not mention the heartbeat", msg)
	}
}

func TestReaperLoopRunsOnTheInjectedClock(t *testing.T) {
	t.Parallel()
	// No agent heartbeats here: keep the hour of fake time from making the
	// worker lost before it is idle long enough.
	h := newHarness(t, func(c *fleet.Config) { c.HeartbeatTimeout = 2 * fleet.DefaultIdleTimeout })
	w := h.acquire(params(h.tenant("acme"), "1"))
	if err := h.fleet.Release(t.Context(), w); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := h.fleet.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer h.fleet.Stop()
	h.clock.Advance(fleet.DefaultIdleTimeout)
	deadline := time.Now().Add(10 * time.Second)
	for h.worker(w.ID).State != api.WorkerDestroyed {
		if time.Now().After(deadline) {
			t.Fatalf("worker not destroyed by the reaper loop; it is %s", h.worker(w.ID).State)
		}
		time.Sleep(10 * time.Millisecond) // polling; the state decides, not the time
	}
	if got := h.worker(w.ID).DestroyReason; got != api.DestroyIdleTimeout {
		t.Fatalf("destroy reason = %s, want idle-timeout", got)
	}
}

func TestSilenceWhileTheServerWasDownIsNotLoss(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.acquire(params(h.tenant("acme"), "1"))
	// The server was down for longer than the heartbeat timeout; its
	// agents could not reach it. The first reconcile after the start must
	// not call them lost.
	h.clock.Advance(10 * fleet.DefaultHeartbeatTimeout)
	if err := h.fleet.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer h.fleet.Stop()
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if got := h.worker(w.ID).State; got != api.WorkerBusy {
		t.Fatalf("worker silent only while the server was down is %s, want busy", got)
	}
	h.fleet.Stop()
	h.clock.Advance(fleet.DefaultHeartbeatTimeout + time.Second)
	if err := h.fleet.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if got := h.worker(w.ID).State; got != api.WorkerLost {
		t.Fatalf("worker silent for the heartbeat timeout after the start is %s, want lost", got)
	}
}

func TestConcurrentAcquiresKeepToTheWorkerLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	acme.MaxWorkers = 1
	if err := h.store.TenantUpdate(t.Context(), acme); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	// None registers: one acquirer makes the worker and waits for its
	// registration, the other seven wait at the limit, each ended once it
	// says so; then the maker is ended too.
	all, endAll := context.WithCancel(t.Context())
	defer endAll()
	waiting := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(all)
			defer cancel()
			p := params(acme, fmt.Sprint(i))
			p.OnWait = func(string) { waiting <- struct{}{}; cancel() }
			_, _ = h.fleet.Acquire(ctx, p)
		})
	}
	deadline := time.After(30 * time.Second)
	for n := 0; n < 7; n++ {
		select {
		case <-waiting:
		case <-deadline:
			n = 7 // more than one was made: the list below says how many
		}
	}
	endAll()
	wg.Wait()
	ws, err := h.store.WorkerList(t.Context(), &store.WorkerListParams{TenantID: acme.ID})
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	if len(ws) != 1 {
		t.Fatalf("8 concurrent acquires made %d workers, want the limit of 1", len(ws))
	}
}

func TestRecycleDestroysRetiredIdleWorkersAndReleaseRetiresBusyOnes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	old, kept, busy := h.acquire(params(acme, "1")), h.acquire(params(acme, "1")), h.acquire(params(acme, "1"))
	for _, w := range []*store.Worker{old, kept} {
		if err := h.fleet.Release(t.Context(), w); err != nil {
			t.Fatalf("release: %v", err)
		}
	}
	h.retired.Store(old.ID, api.DestroyImageRebuilt)
	h.retired.Store(busy.ID, api.DestroyImageRebuilt)
	if err := h.fleet.Recycle(t.Context()); err != nil {
		t.Fatalf("recycle: %v", err)
	}
	if got := h.worker(old.ID); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyImageRebuilt {
		t.Fatalf("retired idle worker = %s (%s), want destroyed (image-rebuilt)", got.State, got.DestroyReason)
	}
	if got := h.worker(kept.ID).State; got != api.WorkerIdle {
		t.Fatalf("current idle worker = %s, want idle", got)
	}
	if got := h.worker(busy.ID).State; got != api.WorkerBusy {
		t.Fatalf("retired busy worker = %s, want busy until its step ends", got)
	}
	if err := h.fleet.Release(t.Context(), busy); err != nil {
		t.Fatalf("release: %v", err)
	}
	if got := h.worker(busy.ID); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyImageRebuilt {
		t.Fatalf("retired worker after its step = %s (%s), want destroyed (image-rebuilt)", got.State, got.DestroyReason)
	}
}

func TestWaitingAcquireFollowsTheTargetOfTheMoment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	acme := h.tenant("acme")
	acme.MaxWorkers = 1
	if err := h.store.TenantUpdate(t.Context(), acme); err != nil {
		t.Fatalf("limit tenant: %v", err)
	}
	held := h.acquire(params(acme, "1"))
	var mu sync.Mutex
	build, gone := "1", error(nil)
	waits := make(chan string, 10)
	p := &fleet.AcquireParams{Tenant: acme, PoolID: "p-1", OnWait: func(r string) { waits <- r },
		Target: func(context.Context) (*fleet.Target, error) {
			mu.Lock()
			defer mu.Unlock()
			return &fleet.Target{Image: "ubuntu-22.04", Build: build, OS: "linux"}, gone
		}}
	type result struct {
		w   *store.Worker
		err error
	}
	done := make(chan result, 1)
	go func() {
		w, err := h.fleet.Acquire(t.Context(), p)
		done <- result{w, err}
	}()
	<-waits // at the limit
	mu.Lock()
	build = "2" // a rebuild came out while the step waited
	mu.Unlock()
	h.retired.Store(held.ID, api.DestroyImageRebuilt)
	if err := h.fleet.Release(t.Context(), held); err != nil {
		t.Fatalf("release: %v", err)
	}
	id := <-h.prov.Created
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(id)); err != nil {
		t.Fatalf("register: %v", err)
	}
	r := <-done
	if r.err != nil || r.w.Build != "2" {
		t.Fatalf("acquire = %+v, %v; want a worker of build 2", r.w, r.err)
	}

	// A target that is gone (say, decommissioned) ends the wait with its error.
	mu.Lock()
	gone = errors.New("image decommissioned")
	mu.Unlock()
	if _, err := h.fleet.Acquire(t.Context(), p); err == nil || err.Error() != "image decommissioned" {
		t.Fatalf("acquire with a gone target = %v, want its error", err)
	}
}
