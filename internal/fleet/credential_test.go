package fleet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

// createOne starts an Acquire for tenant name and returns the id of the
// worker the provider made, still provisioning (its registration timeout
// recorded: Acquire waits for it on the clock), and the Acquire's result
// channel.
func (h *harness) createOne(name string) (string, chan *store.Worker) {
	h.t.Helper()
	got := make(chan *store.Worker, 1)
	go func() {
		w, _ := h.fleet.Acquire(h.t.Context(), params(h.tenant(name), "1"))
		got <- w
	}()
	id := <-h.prov.Created
	if err := h.clock.BlockUntilContext(h.t.Context(), 1); err != nil {
		h.t.Fatalf("wait for Acquire to wait for the registration: %v", err)
	}
	return id, got
}

func TestExpiredRegistrationTokenIsRefusedBeforeTheReaperRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, _ := h.createOne("acme")
	h.clock.Advance(fleet.DefaultRegistrationTimeout)
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(id)); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("registration after the timeout: %v, want ErrUnknownAgent", err)
	}
	if w := h.worker(id); w.State != api.WorkerProvisioning || w.CredentialHash != "" {
		t.Fatalf("worker is %s with credential %q, want still provisioning without one (the reaper has not run)", w.State, w.CredentialHash)
	}
}

func TestRegistrationTokenWorksWithinTheTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, got := h.createOne("acme")
	h.clock.Advance(fleet.DefaultRegistrationTimeout - time.Second)
	if _, _, err := h.fleet.Register(t.Context(), h.prov.Token(id)); err != nil {
		t.Fatalf("registration a second before the timeout: %v", err)
	}
	if w := <-got; w == nil || w.ID != id {
		t.Fatalf("acquire got %v, want worker %s", w, id)
	}
}

// registered creates a worker of a new tenant, registers it and returns
// it (busy, leased by the Acquire) with its credential.
func (h *harness) registered(name string) (*store.Worker, string) {
	h.t.Helper()
	id, got := h.createOne(name)
	_, credential, err := h.fleet.Register(h.t.Context(), h.prov.Token(id))
	if err != nil {
		h.t.Fatalf("register: %v", err)
	}
	w := <-got
	if a, err := h.fleet.Authenticate(h.t.Context(), credential); err != nil || a.ID != w.ID {
		h.t.Fatalf("authenticate a live worker: %v, %v", a, err)
	}
	return w, credential
}

func TestCredentialDiesWithTheWorker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		end   func(h *harness, w *store.Worker)
		state string
	}{
		{"destroyed", func(h *harness, w *store.Worker) {
			if err := h.fleet.Discard(h.t.Context(), w, "test"); err != nil {
				h.t.Fatalf("discard: %v", err)
			}
		}, api.WorkerDestroyed},
		{"lost", func(h *harness, w *store.Worker) {
			h.prov.Vanish(w.ResourceID)
			if err := h.fleet.Reconcile(h.t.Context()); err != nil {
				h.t.Fatalf("reconcile: %v", err)
			}
		}, api.WorkerLost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			w, credential := h.registered("acme")
			tc.end(h, w)
			got := h.worker(w.ID)
			if got.State != tc.state || got.CredentialHash != "" || got.RegistrationHash != "" {
				t.Fatalf("worker is %s with credential hash %q, registration hash %q; want %s with both cleared",
					got.State, got.CredentialHash, got.RegistrationHash, tc.state)
			}
			if _, err := h.fleet.Authenticate(t.Context(), credential); !errors.Is(err, fleet.ErrUnknownAgent) {
				t.Fatalf("authenticate with a %s worker's credential: %v, want ErrUnknownAgent", tc.name, err)
			}
		})
	}
}
