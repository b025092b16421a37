package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// electPeriod is the period of the elections in tests.
const electPeriod = 50 * time.Millisecond

// candidate is one Elect loop of a test.
type candidate struct {
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// startElect runs elect for name on url until t ends or stop; lead is
// the leader's work, locked gets the pid of each lock's connection.
func startElect(t *testing.T, url, name string, lead func(ctx context.Context), locked func(pid uint32)) *candidate {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	c := &candidate{cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- elect(ctx, url, name, electPeriod, lead, locked) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the loop and checks that it returns ctx's error; a second
// stop (the cleanup) does nothing.
func (c *candidate) stop(t *testing.T) {
	t.Helper()
	if c.stopped {
		return
	}
	c.stopped = true
	c.cancel()
	select {
	case err := <-c.done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("elect returned %v, want context.Canceled", err)
		}
	case <-time.After(waitTimeout):
		t.Errorf("elect did not return within %v of its ctx ending", waitTimeout)
	}
}

func TestElectOneLeaderAtATime(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	var leaders atomic.Int32
	started := make(chan int, 16)
	lead := func(i int) func(ctx context.Context) {
		return func(ctx context.Context) {
			if n := leaders.Add(1); n > 1 {
				t.Errorf("candidate %d leads with %d leaders", i, n)
			}
			started <- i
			<-ctx.Done()
			leaders.Add(-1)
		}
	}
	cands := []*candidate{
		startElect(t, u, "runner", lead(0), nil),
		startElect(t, u, "runner", lead(1), nil),
	}
	first := receive(t, started, "leader")
	// While the leader holds on, the other retries every period in vain.
	select {
	case i := <-started:
		t.Fatalf("candidate %d leads too", i)
	case <-time.After(20 * electPeriod):
	}
	// Another election on the same schema is not in the way.
	other := make(chan struct{})
	startElect(t, u, "other", func(ctx context.Context) { close(other); <-ctx.Done() }, nil)
	receive(t, other, "leader of another election")

	cands[first].stop(t)
	deadline := time.After(40 * electPeriod)
	select {
	case next := <-started:
		if next == first {
			t.Fatalf("candidate %d leads again after its ctx ended", next)
		}
	case <-deadline:
		t.Fatalf("no takeover within %v of the leader stopping", 40*electPeriod)
	}
}

func TestElectLeaderLosesItsConnection(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	leads := make(chan context.Context, 4)
	pids := make(chan uint32, 4)
	startElect(t, u, "runner",
		func(ctx context.Context) { leads <- ctx; <-ctx.Done() },
		func(pid uint32) { pids <- pid })
	pid := receive(t, pids, "lock pid")
	leadCtx := receive(t, leads, "leadership")
	admin(t, serverURL(t), "SELECT pg_terminate_backend("+itoa(int(pid))+")")
	receive(t, leadCtx.Done(), "end of the lead ctx")
	if next := receive(t, pids, "lock pid after reconnecting"); next == pid {
		t.Errorf("locked again on pid %d, the terminated backend", pid)
	}
	receive(t, leads, "leadership again")
}

func TestElectLeadReturning(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	// A lead that returns on its own gives the lock up: another candidate
	// takes it.
	quick := make(chan struct{}, 16)
	startElect(t, u, "runner", func(context.Context) { quick <- struct{}{} }, nil)
	receive(t, quick, "quick leadership")
	other := make(chan struct{})
	startElect(t, u, "runner", func(ctx context.Context) {
		select {
		case other <- struct{}{}:
		default:
		}
		<-ctx.Done()
	}, nil)
	receive(t, other, "leadership of the second candidate")
}

func TestElectBadArguments(t *testing.T) {
	t.Parallel()
	lead := func(context.Context) { t.Error("lead ran") }
	if err := Elect(t.Context(), "postgres://u:secret@host:notaport/db", "x", time.Second, lead); err == nil ||
		errors.Is(err, context.Canceled) {
		t.Errorf("Elect with a bad URL = %v, want an error", err)
	}
	if err := Elect(t.Context(), "postgres://localhost/db", "x", 0, lead); err == nil {
		t.Error("Elect with period 0 succeeded, want an error")
	}
}
