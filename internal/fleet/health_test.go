package fleet_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// testCheck is the pool's check of these tests (hasCheck) or none; its
// outcomes are recorded at most every half interval (5 s).
func testCheck(hasCheck bool) store.HealthCheck {
	if !hasCheck {
		return store.HealthCheck{}
	}
	return store.HealthCheck{Script: "true", Interval: fleet.MinHealthCheckInterval}
}

// recordHealth records res for worker id (read afresh, as a heartbeat
// reads it) half the check's interval after the last call, and returns
// the change.
func (h *harness) recordHealth(id string, hasCheck bool, res *api.HealthCheckResult) *fleet.HealthChange {
	h.t.Helper()
	h.clock.Advance(fleet.MinHealthCheckInterval / 2)
	c, err := h.fleet.RecordHealth(h.t.Context(), h.worker(id), testCheck(hasCheck), res)
	if err != nil {
		h.t.Fatalf("record health of %s: %v", id, err)
	}
	return c
}

// waitReason starts an Acquire on acme's static pool and returns its
// first wait reason, the Acquire's result channel and its cancel.
func (h *harness) waitReason(acme *store.Tenant) (string, <-chan *store.Worker, context.CancelFunc) {
	h.t.Helper()
	reasons := make(chan string, 10)
	ctx, cancel := context.WithCancel(h.t.Context())
	got := make(chan *store.Worker, 1)
	go func() {
		w, _ := h.fleet.Acquire(ctx, staticParams(acme, func(r string) { reasons <- r }))
		got <- w
	}()
	select {
	case r := <-reasons:
		return r, got, cancel
	case w := <-got:
		cancel()
		h.t.Fatalf("acquire did not wait: got %v", w)
	case <-time.After(10 * time.Second):
		h.t.Fatal("acquire neither waited nor returned")
	}
	return "", nil, cancel
}

func TestStaticHealthCheckOutcomes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	acme := h.tenant("acme")
	register := func(token, name string) *store.Worker {
		w, _, _, err := h.fleet.RegisterStatic(ctx, &fleet.RegisterStaticParams{Token: token, Pool: "Machines", Name: name})
		if err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
		return w
	}
	w1 := register(h.staticPool(acme), "box-1")
	w2 := register(h.token(acme), "box-2")
	failed := &api.HealthCheckResult{Status: api.HealthFailed, Message: "exit code 1\ndisk full"}

	// Only changes are returned (and audited by the server).
	if c := h.recordHealth(w1.ID, true, failed); c == nil || c.From != "" || c.To != api.HealthFailed || c.Message != failed.Message {
		t.Fatalf("first failure: change %+v", c)
	}
	if c := h.recordHealth(w1.ID, true, failed); c != nil {
		t.Errorf("the same outcome again: change %+v, want none", c)
	}
	// An outcome sooner than half the interval after the last one is
	// ignored.
	h.clock.Advance(time.Second)
	if c, err := h.fleet.RecordHealth(ctx, h.worker(w1.ID), testCheck(true), &api.HealthCheckResult{Status: api.HealthHealthy}); err != nil || c != nil {
		t.Errorf("an outcome 1s after the last: change %+v, %v; want it ignored", c, err)
	}
	if c := h.recordHealth(w1.ID, true, nil); c != nil {
		t.Errorf("a heartbeat without an outcome: change %+v, want none", c)
	}
	if w := h.worker(w1.ID); w.HealthStatus != api.HealthFailed || w.HealthMessage != failed.Message || w.HealthCheckedAt == nil {
		t.Fatalf("worker after a failed check = %+v", w)
	}

	// A status that is not an outcome is refused, naming the field.
	_, err := h.fleet.RecordHealth(ctx, h.worker(w2.ID), testCheck(true), &api.HealthCheckResult{Status: "sick"})
	if v, ok := validation.As(err); !ok || v.Field != "health_check.status" {
		t.Fatalf("status sick: err = %v, want a validation error naming health_check.status", err)
	}
	if w := h.worker(w2.ID); w.HealthStatus != "" {
		t.Errorf("a refused outcome was recorded: %q", w.HealthStatus)
	}
	// A message is cut to its last 1 KiB of valid text without NUL.
	long := "start\x00\xff" + strings.Repeat("é", 2000) + "END"
	h.recordHealth(w2.ID, true, &api.HealthCheckResult{Status: api.HealthWarning, Message: long})
	if m := h.worker(w2.ID).HealthMessage; len(m) > api.MaxHealthMessage || !utf8.ValidString(m) ||
		strings.ContainsRune(m, 0) || !strings.HasSuffix(m, "END") {
		t.Errorf("stored message of %d bytes %.20q…, want at most %d bytes of valid text ending in END", len(m), m, api.MaxHealthMessage)
	}

	// w2 only warns: it gets the step.
	if got := h.acquire(staticParams(acme, nil)); got.ID != w2.ID {
		t.Fatalf("acquired %s, want %s (w1 failed its check)", got.ID, w2.ID)
	}
	if err := h.fleet.Release(ctx, h.worker(w2.ID)); err != nil {
		t.Fatal(err)
	}

	// Disabled and unhealthy: the wait says both.
	if _, err := h.fleet.SetDisabled(ctx, acme.ID, w2.ID, true); err != nil {
		t.Fatal(err)
	}
	r, first, cancel := h.waitReason(acme)
	cancel()
	<-first // out of the line before the next step waits
	if want := `the 2 workers of static pool Machines are disabled (1) or unhealthy (1: their health check failed ("disk full"))`; !strings.Contains(r, want) {
		t.Errorf("wait reason %q, want %q", r, want)
	}
	if _, err := h.fleet.SetDisabled(ctx, acme.ID, w2.ID, false); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Second) // the latest failure is named
	h.recordHealth(w2.ID, true, &api.HealthCheckResult{Status: api.HealthFailed, Message: "exit code 3"})
	r, got, cancel := h.waitReason(acme)
	defer cancel()
	if want := `all 2 workers of static pool Machines are unhealthy: their health check failed ("exit code 3")`; !strings.Contains(r, want) {
		t.Errorf("wait reason %q, want %q", r, want)
	}

	// A passing check wakes the waiting step, which takes that worker.
	if c := h.recordHealth(w1.ID, true, &api.HealthCheckResult{Status: api.HealthHealthy}); c == nil || c.From != api.HealthFailed || c.To != api.HealthHealthy {
		t.Fatalf("passing check: change %+v", c)
	}
	select {
	case w := <-got:
		if w == nil || w.ID != w1.ID {
			t.Fatalf("the waiting step got %v, want %s", w, w1.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting step was not woken by the passing check")
	}

	// The pool's check removed: an outcome is ignored, and an earlier one
	// cleared, so the machine serves again.
	if c := h.recordHealth(w2.ID, false, &api.HealthCheckResult{Status: api.HealthFailed}); c == nil || c.From != api.HealthFailed || c.To != "" {
		t.Fatalf("check removed: change %+v, want failed → none", c)
	}
	if w := h.worker(w2.ID); w.HealthStatus != "" || w.HealthMessage != "" {
		t.Errorf("worker after its pool's check was removed = %q %q, want no outcome", w.HealthStatus, w.HealthMessage)
	}
	if got := h.acquire(staticParams(acme, nil)); got.ID != w2.ID {
		t.Errorf("acquired %s, want %s", got.ID, w2.ID)
	}
}
