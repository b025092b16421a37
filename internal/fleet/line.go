package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
)

// lineTTL is how long a waiter keeps its place in the line without
// renewing it. A waiter renews it each time it looks again (at least
// every recheckPeriod, at most createBackoffMax after a provider error),
// so only the waiters of a server that died lose theirs: they hold up
// their line for lineTTL at most.
const lineTTL = 2 * createBackoffMax

// line keeps, in the store and so for every server on it, the steps of
// each tenant's pool that wait for a worker because a limit was reached,
// in arrival order (one line per key, "<tenant>/<pool>"). Only the first
// of a line tries again when capacity may have come back, so a tenant
// with a burst of waiting steps gets one try per wake-up, as a tenant
// with one step does (a burst does not starve other tenants), and the
// steps of one pool get workers first in, first out, whichever replica
// runs them. Steps that arrive while their line is not empty join its
// end rather than try first.
type line struct {
	f *Fleet
}

// place is one step's place in its line.
type place struct {
	key, id string
	// renewed is when the place was last kept for another lineTTL.
	renewed time.Time
}

// renewEvery is how often a waiter renews its place: looks in between
// only read (a line of n waiters woken n times costs n² reads, not
// writes; found by review).
const renewEvery = lineTTL / 3

// join adds a place at the end of key's line.
func (l line) join(ctx context.Context, key string) (*place, error) {
	now := l.f.cfg.Clock.Now()
	p := &place{key: key, id: id.New("wait"), renewed: now}
	if err := l.f.store.LineJoin(ctx, key, p.id, now, now.Add(lineTTL)); err != nil {
		return nil, err
	}
	return p, nil
}

// first reports whether p is the first of its line, keeping its place
// for another lineTTL when renewEvery has passed. A place that expired
// meanwhile (this server was too slow to renew it) joins the end again.
func (l line) first(ctx context.Context, p *place) (bool, error) {
	now := l.f.cfg.Clock.Now()
	renew := p.id
	if now.Sub(p.renewed) < renewEvery {
		renew = "" // only look
	}
	first, err := l.f.store.LineFirst(ctx, p.key, renew, now, now.Add(lineTTL))
	if err == nil && renew != "" {
		p.renewed = now
	}
	if errors.Is(err, store.ErrNotFound) {
		again, err := l.join(ctx, p.key)
		if err != nil {
			return false, err
		}
		p.id, p.renewed = again.id, again.renewed
		first, err = l.f.store.LineFirst(ctx, p.key, "", now, time.Time{})
		if err != nil {
			return false, err
		}
	}
	if err != nil {
		return false, err
	}
	return first == p.id, nil
}

// look reports whether a step holding *spot (nil: no place yet) may try
// for a worker now: with no place, when key's line is empty (else it
// joins the end, into *spot: no jumping the line); with one, when it is
// the first. turn wakes when a place of the line is left, on any server.
func (l line) look(ctx context.Context, key string, spot **place) (mayTry bool, turn <-chan struct{}, err error) {
	if *spot == nil {
		now := l.f.cfg.Clock.Now()
		first, err := l.f.store.LineFirst(ctx, key, "", now, time.Time{})
		if err != nil || first == "" {
			return err == nil, nil, err
		}
		if *spot, err = l.join(ctx, key); err != nil {
			return false, nil, err
		}
	}
	turn = l.f.hub.Wait("line/" + key) // taken before the look, so no leave is missed
	first, err := l.first(ctx, *spot)
	return first, turn, err
}

// leave removes p from its line and wakes the others of the line. It
// runs on a context of its own: a step whose wait was canceled leaves too.
func (l line) leave(ctx context.Context, p *place) {
	ctx = context.WithoutCancel(ctx)
	if err := l.f.store.LineLeave(ctx, p.id); err != nil {
		// The place expires after lineTTL anyway.
		l.f.cfg.Logger.ErrorContext(ctx, "leave the waiting line", "line", p.key, "error", fmt.Errorf("%w (the place expires in %s)", err, lineTTL))
	}
	l.f.hub.Notify("line/" + p.key)
}
