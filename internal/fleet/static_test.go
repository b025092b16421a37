package fleet_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
)

// staticPool stores static pool "Machines" of tenant t and a registration
// token for it, valid for an hour, and returns the token.
func (h *harness) staticPool(t *store.Tenant) string {
	h.t.Helper()
	ctx := h.t.Context()
	if err := h.store.PoolCreate(ctx, &store.Pool{ID: "p-" + t.Name, TenantID: t.ID, Name: "Machines",
		Type: api.PoolTypeStatic, IsDefault: true, CreatedAt: h.clock.Now()}); err != nil {
		h.t.Fatalf("create pool: %v", err)
	}
	return h.token(t)
}

// token makes one more registration token for t's static pool.
func (h *harness) token(t *store.Tenant) string {
	h.t.Helper()
	token := id.Secret("dpr")
	if err := h.store.RegistrationTokenCreate(h.t.Context(), &store.RegistrationToken{ID: id.New("r"), TenantID: t.ID,
		PoolID: "p-" + t.Name, TokenHash: id.Hash(token), CreatedAt: h.clock.Now(), ExpiresAt: h.clock.Now().Add(time.Hour)}); err != nil {
		h.t.Fatalf("create token: %v", err)
	}
	return token
}

func staticParams(t *store.Tenant, onWait func(string)) *fleet.AcquireParams {
	return &fleet.AcquireParams{Tenant: t, PoolID: "p-" + t.Name, OnWait: onWait,
		Target: func(context.Context) (*fleet.Target, error) { return &fleet.Target{Static: true}, nil }}
}

func TestStaticWorkerLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	acme := h.tenant("acme")
	token := h.staticPool(acme)

	w, _, cred, err := h.fleet.RegisterStatic(ctx, &fleet.RegisterStaticParams{Token: token, Pool: "Machines", Name: "box-1"})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if w.Provider != store.ProviderStatic || w.State != api.WorkerIdle || w.DestroyAt != nil || w.Name != "box-1" {
		t.Fatalf("registered worker = %+v, want an idle static worker named box-1 with no destroy time", w)
	}
	if _, _, _, err := h.fleet.RegisterStatic(ctx, &fleet.RegisterStaticParams{Token: token, Pool: "Machines", Name: "again"}); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("replayed token: err = %v, want ErrUnknownAgent", err)
	}

	got, err := h.fleet.Acquire(ctx, staticParams(acme, nil))
	if err != nil || got.ID != w.ID {
		t.Fatalf("acquire = %v, %v; want worker %s", got, err, w.ID)
	}
	if res, _ := h.prov.List(ctx); len(res) != 0 {
		t.Fatalf("acquire on a static pool created %d workers", len(res))
	}

	// All busy: Acquire waits, saying so, and creates nothing.
	reasons := make(chan string, 4)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := h.fleet.Acquire(wctx, staticParams(acme, func(r string) { reasons <- r }))
		done <- err
	}()
	if r := <-reasons; !strings.Contains(r, "all 1 worker of static pool Machines are busy") {
		t.Fatalf("wait reason %q", r)
	}
	cancel()
	if err := <-done; !errors.Is(err, fleet.ErrNoStaticWorker) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait: err = %v", err)
	}

	// Released, far past idle timeout and max lifetime: the reaper keeps it.
	if err := h.fleet.Release(ctx, got); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := h.fleet.Heartbeat(ctx, got, fleet.HeartbeatParams{}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	h.clock.Advance(fleet.DefaultHeartbeatTimeout) // not past the heartbeat timeout
	if err := h.fleet.Reap(ctx); err != nil {
		t.Fatalf("reap: %v", err)
	}
	if err := h.fleet.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if st := h.worker(w.ID).State; st != api.WorkerIdle {
		t.Fatalf("worker is %s, want %s", st, api.WorkerIdle)
	}

	// Silent past the heartbeat timeout: unavailable, not lost.
	h.clock.Advance(fleet.DefaultMaxLifetime)
	if err := h.fleet.Reap(ctx); err != nil {
		t.Fatalf("reap: %v", err)
	}
	if err := h.fleet.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if st := h.worker(w.ID).State; st != api.WorkerUnavailable {
		t.Fatalf("worker is %s, want %s", st, api.WorkerUnavailable)
	}
	if r := <-h.lost; !strings.Contains(r, "unavailable") {
		t.Fatalf("OnLost reason %q", r)
	}
	reasons = make(chan string, 4)
	wctx, cancel = context.WithCancel(ctx)
	go func() {
		_, err := h.fleet.Acquire(wctx, staticParams(acme, func(r string) { reasons <- r }))
		done <- err
	}()
	if r := <-reasons; !strings.Contains(r, "static pool Machines has no healthy worker") {
		t.Fatalf("wait reason %q", r)
	}
	cancel()
	<-done

	// It heartbeats again: idle, and a step gets it.
	cur, err := h.fleet.Authenticate(ctx, cred)
	if err != nil {
		t.Fatalf("authenticate an unavailable worker: %v", err)
	}
	if err := h.fleet.Heartbeat(ctx, cur, fleet.HeartbeatParams{}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if st := h.worker(w.ID).State; st != api.WorkerIdle {
		t.Fatalf("worker is %s, want %s", st, api.WorkerIdle)
	}

	// Deleted: destroyed, its credential dead.
	if err := h.fleet.DeleteStatic(ctx, "t-other", w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete by another tenant: err = %v, want ErrNotFound", err)
	}
	if err := h.fleet.DeleteStatic(ctx, acme.ID, w.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if st := h.worker(w.ID).State; st != api.WorkerDestroyed {
		t.Fatalf("worker is %s, want %s", st, api.WorkerDestroyed)
	}
	if _, err := h.fleet.Authenticate(ctx, cred); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("authenticate a deleted worker: err = %v, want ErrUnknownAgent", err)
	}
	if err := h.fleet.DeleteStatic(ctx, acme.ID, w.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete twice: err = %v, want ErrConflict", err)
	}
}

func TestStaticRegisterRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	acme, other := h.tenant("acme"), h.tenant("other")
	h.staticPool(acme)
	otherToken := h.staticPool(other)

	// Another tenant's token cannot register into acme's pool.
	if _, _, _, err := h.fleet.RegisterStatic(ctx, &fleet.RegisterStaticParams{Token: otherToken, Pool: "p-acme", Name: "x"}); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("another tenant's token: err = %v, want ErrUnknownAgent", err)
	}
	expired := h.token(acme)
	h.clock.Advance(time.Hour)
	if _, _, _, err := h.fleet.RegisterStatic(ctx, &fleet.RegisterStaticParams{Token: expired, Pool: "Machines", Name: "x"}); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("expired token: err = %v, want ErrUnknownAgent", err)
	}
	if _, _, _, err := h.fleet.RegisterStatic(ctx, &fleet.RegisterStaticParams{Token: "dpr_unknown", Pool: "Machines"}); !errors.Is(err, fleet.ErrUnknownAgent) {
		t.Fatalf("unknown token: err = %v, want ErrUnknownAgent", err)
	}
	// A dynamic worker is not deleted by its tenant.
	w := h.acquire(params(acme, "b1"))
	if err := h.fleet.DeleteStatic(ctx, acme.ID, w.ID); !errors.Is(err, fleet.ErrNotStatic) {
		t.Fatalf("delete a dynamic worker: err = %v, want ErrNotStatic", err)
	}
}

// A static worker the fleet would destroy (its agent would not stop a
// canceled script) is set unavailable instead: the machine is the
// tenant's.
func TestDiscardOfAStaticWorkerLeavesIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token := h.staticPool(h.tenant("acme"))
	w, _, _, err := h.fleet.RegisterStatic(t.Context(), &fleet.RegisterStaticParams{Token: token, Pool: "Machines", Name: "box-1"})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := h.fleet.Discard(t.Context(), w, api.DestroyUnresponsive); err != nil {
		t.Fatalf("discard: %v", err)
	}
	if got := h.worker(w.ID); got.State != api.WorkerUnavailable || got.CredentialHash == "" {
		t.Fatalf("discarded static worker is %s (credential kept: %v), want unavailable with its credential", got.State, got.CredentialHash != "")
	}
}
