package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

// waitTimeout bounds every wait for a signal in these tests; they pass
// as soon as the signal comes.
const waitTimeout = 30 * time.Second

// testChannel returns a channel name of its own for one test (channels
// are per database, shared by the tests' schemas), with a capital, a
// space and a quote, which LISTEN must quote.
func testChannel() string {
	return `Dynpool "test" ` + strings.ToLower(rand.Text()[:12])
}

// receive waits for the next payload on got; what names it.
func receive[T any](t *testing.T, got <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-got:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %v", what, waitTimeout)
		panic("unreachable")
	}
}

// startListen runs listen on channel until t ends, sending payloads to
// the returned channel and backend pids (once per LISTEN) to pids. It
// returns once the first LISTEN is in place; stop ends it and returns its
// error.
func startListen(t *testing.T, url, channel string) (payloads <-chan string, pids <-chan uint32, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	got, pidc := make(chan string, 16), make(chan uint32, 16)
	ready, errc := make(chan struct{}), make(chan error, 1)
	go func() {
		errc <- listen(ctx, url, channel, ready, func(p string) { got <- p }, func(pid uint32) { pidc <- pid })
	}()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("listen returned before listening: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("listen not ready")
	}
	t.Cleanup(cancel)
	return got, pidc, func() error { cancel(); return <-errc }
}

func TestPublishReachesListener(t *testing.T) {
	t.Parallel()
	s, u := openFresh(t)
	channel := testChannel()
	got, _, stop := startListen(t, u, channel)
	for _, want := range []string{"one", "", "three"} {
		if err := s.Publish(t.Context(), channel, want); err != nil {
			t.Fatalf("publish: %v", err)
		}
		if p := receive(t, got, "payload "+want); p != want {
			t.Fatalf("received %q, want %q", p, want)
		}
	}
	if err := s.Publish(t.Context(), channel+" other", "elsewhere"); err != nil {
		t.Fatalf("publish on another channel: %v", err)
	}
	if err := s.Publish(t.Context(), channel, "last"); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if p := receive(t, got, "payload last"); p != "last" {
		t.Fatalf("received %q, want %q (nothing from another channel)", p, "last")
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("listen returned %v, want context.Canceled", err)
	}
}

func TestListenReconnects(t *testing.T) {
	t.Parallel()
	s, u := openFresh(t)
	channel := testChannel()
	got, pids, stop := startListen(t, u, channel)
	pid := receive(t, pids, "listening pid")
	for round := range 2 {
		if err := s.Publish(t.Context(), channel, "before"); err != nil {
			t.Fatalf("publish: %v", err)
		}
		if p := receive(t, got, "payload before"); p != "before" {
			t.Fatalf("round %d: received %q, want %q", round, p, "before")
		}
		admin(t, serverURL(t), "SELECT pg_terminate_backend("+itoa(int(pid))+")")
		next := receive(t, pids, "pid of a new LISTEN")
		if next == pid {
			t.Fatalf("round %d: listening again on pid %d, the terminated backend", round, pid)
		}
		pid = next
		if err := s.Publish(t.Context(), channel, "after"); err != nil {
			t.Fatalf("publish: %v", err)
		}
		if p := receive(t, got, "payload after"); p != "after" {
			t.Fatalf("round %d: received %q, want %q", round, p, "after")
		}
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("listen returned %v, want context.Canceled", err)
	}
}

func TestListenBadURL(t *testing.T) {
	t.Parallel()
	err := Listen(t.Context(), "postgres://u:secret@host:notaport/db", "c", nil, func(string) {})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Listen with a bad URL = %v, want an error without the password", err)
	}
}
