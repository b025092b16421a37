package store

import (
	"context"
	"time"
)

// LineStore keeps the waiting line of steps that wait for a worker
// because a limit was reached: one line per tenant and pool, shared by
// every server on the store (fleet's line). A waiter stays in its line
// until it leaves or its ExpiresAt passes without a renewal, so the
// waiters of a server that died stop holding up the others.
type LineStore interface {
	// LineJoin puts waiter id at the end of line, live until expiresAt,
	// and removes the waiters of any line whose expiry is before now.
	// ErrConflict when id waits already.
	LineJoin(ctx context.Context, line, id string, now, expiresAt time.Time) error
	// LineFirst renews waiter id (when not empty) until expiresAt, then
	// returns the id of line's first waiter live at now, "" when none.
	// ErrNotFound when id is not in line (it expired and was removed).
	LineFirst(ctx context.Context, line, id string, now, expiresAt time.Time) (string, error)
	// LineLeave removes waiter id; leaving twice is no error.
	LineLeave(ctx context.Context, id string) error
}
