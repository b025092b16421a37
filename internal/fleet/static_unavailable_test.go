package fleet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/fake"
	"github.com/dynpool/dynpool/internal/store"
)

// registerStatic registers one machine into acme's static pool and
// returns its worker and credential.
func (h *harness) registerStatic(f *fleet.Fleet) (*store.Worker, string) {
	h.t.Helper()
	token := h.staticPool(h.tenant("acme"))
	w, _, cred, err := f.RegisterStatic(h.t.Context(), &fleet.RegisterStaticParams{Token: token, Pool: "Machines", Name: "box-1"})
	if err != nil {
		h.t.Fatalf("register: %v", err)
	}
	return w, cred
}

// An unavailable static worker whose agent still runs a job (a script the
// server failed or canceled meanwhile) takes no step until its agent
// reports that job stopped: whether the reconciler found it silent or a
// canceled script would not stop (Discard).
func TestUnavailableStaticWorkerRevivesOnlyWhenItsAgentRunsNoJob(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"silent", "discarded"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ctx := t.Context()
			w, _ := h.registerStatic(h.fleet)
			acme := &store.Tenant{ID: "t-acme", Name: "acme"}
			busy, err := h.fleet.Acquire(ctx, staticParams(acme, nil))
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}
			switch how {
			case "silent":
				h.clock.Advance(2 * fleet.DefaultHeartbeatTimeout)
				if err := h.fleet.Reconcile(ctx); err != nil {
					t.Fatalf("reconcile: %v", err)
				}
			case "discarded":
				if err := h.fleet.Discard(ctx, busy, api.DestroyUnresponsive); err != nil {
					t.Fatalf("discard: %v", err)
				}
			}
			if st := h.worker(w.ID).State; st != api.WorkerUnavailable {
				t.Fatalf("worker is %s, want %s", st, api.WorkerUnavailable)
			}
			if err := h.fleet.Heartbeat(ctx, busy, fleet.HeartbeatParams{Running: 1}); err != nil {
				t.Fatalf("heartbeat: %v", err)
			}
			if st := h.worker(w.ID).State; st != api.WorkerUnavailable {
				t.Fatalf("after a heartbeat reporting a running job the worker is %s, want still %s", st, api.WorkerUnavailable)
			}
			if err := h.fleet.Heartbeat(ctx, busy, fleet.HeartbeatParams{}); err != nil {
				t.Fatalf("heartbeat: %v", err)
			}
			if st := h.worker(w.ID).State; st != api.WorkerIdle {
				t.Fatalf("after a heartbeat reporting no job the worker is %s, want %s", st, api.WorkerIdle)
			}
		})
	}
}

// listHook is a fake provider that runs onList while the reconciler
// lists its resources: between its read of the store and its verdicts.
type listHook struct {
	*fake.Provider
	onList func()
}

func (p *listHook) List(ctx context.Context) ([]*provider.Resource, error) {
	p.onList()
	return p.Provider.List(ctx)
}

// A heartbeat that arrives after the reconciler read a static worker, and
// before it judged it, keeps the worker available.
func TestHeartbeatDuringReconcileKeepsStaticWorkerAvailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	hook := &listHook{Provider: h.prov}
	f, err := fleet.New(h.cfg, h.store, hook)
	if err != nil {
		t.Fatalf("new fleet: %v", err)
	}
	w, _ := h.registerStatic(f)
	h.clock.Advance(fleet.DefaultHeartbeatTimeout + 1)
	hook.onList = func() {
		if err := f.Heartbeat(ctx, w, fleet.HeartbeatParams{}); err != nil {
			t.Errorf("heartbeat: %v", err)
		}
	}
	if err := f.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if st := h.worker(w.ID).State; st != api.WorkerIdle {
		t.Fatalf("worker that heartbeated during the reconcile is %s, want %s", st, api.WorkerIdle)
	}
}

// failFinish is a store whose first update recording a worker's end
// (DestroyedAt set) fails.
type failFinish struct {
	store.Store
	failed bool
}

func (s *failFinish) WorkerUpdate(ctx context.Context, p *store.WorkerUpdateParams) (*store.Worker, error) {
	if p.DestroyedAt != nil && !s.failed {
		s.failed = true
		return nil, errors.New("disk full")
	}
	return s.Store.WorkerUpdate(ctx, p)
}

// A deleted static worker's credential dies even when recording its end
// fails; it is left due, and the reaper finishes it.
func TestDeletedStaticWorkerCredentialDiesWhenRecordingFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	f, err := fleet.New(h.cfg, &failFinish{Store: h.store}, h.prov)
	if err != nil {
		t.Fatalf("new fleet: %v", err)
	}
	w, cred := h.registerStatic(f)
	if err := f.DeleteStatic(ctx, "t-acme", w.ID); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("delete: err = %v, want the store's failure", err)
	}
	if _, err := f.Authenticate(ctx, cred); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("authenticate after a half-done delete: err = %v, want ErrUnknownAgent", err)
	}
	if r := <-h.lost; !strings.Contains(r, "deleted") {
		t.Fatalf("OnLost reason %q", r)
	}
	if got := h.worker(w.ID); got.State != api.WorkerDestroying || got.DestroyAt == nil {
		t.Fatalf("half-deleted worker is %s due %v, want destroying and due", got.State, got.DestroyAt)
	}
	if err := f.Reap(ctx); err != nil {
		t.Fatalf("reap: %v", err)
	}
	if got := h.worker(w.ID); got.State != api.WorkerDestroyed || got.DestroyReason != api.DestroyDeleted {
		t.Fatalf("after the reaper the worker is %s (%s), want destroyed (deleted)", got.State, got.DestroyReason)
	}
}
