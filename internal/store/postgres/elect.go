package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Elect runs lead whenever this process holds the leadership of the
// database (a session advisory lock on a connection of its own, keyed by
// database, schema and name), retrying every period while another process
// holds it. lead's ctx ends when the lock's connection is lost (checked
// every period) or when ctx ends; Elect then waits for lead to return and,
// unless ctx ended, tries again. It returns when ctx ends.
//
// It returns ctx's error, or at once an error when url (as for [Open])
// does not parse or period is not positive. When lead returns on its own,
// Elect gives the lock up and tries again a period later, so another
// process may lead meanwhile.
//
// Leadership is exclusive while connections hold, and is given up only
// after lead has returned. When the leader's connection is lost, though,
// PostgreSQL frees the lock at once while the leader notices only at its
// next check: for up to a period (plus the check's timeout, at least a
// second) an old leader and a new one both run. What lead does must stay
// safe through that, as the store's compare-and-set updates and task leases
// are. Connection failures are logged to slog.Default(), as Elect takes
// no logger.
func Elect(ctx context.Context, url, name string, period time.Duration, lead func(ctx context.Context)) error {
	return elect(ctx, url, name, period, lead, nil)
}

// elect is Elect; locked, if not nil, is called with the backend pid of
// the lock's connection each time the lock is taken, before lead starts
// (for tests).
func elect(ctx context.Context, url, name string, period time.Duration, lead func(ctx context.Context),
	locked func(pid uint32)) error {
	cfg, err := parseConfig(url)
	if err != nil {
		return fmt.Errorf("elect %s at %s: %w", name, redact(url), err)
	}
	if period <= 0 {
		return fmt.Errorf("elect %s: period %v is not positive", name, period)
	}
	withKeepalives(cfg.ConnConfig)
	e := &elector{cfg: cfg.ConnConfig, name: name, period: period, lead: lead, locked: locked}
	defer e.disconnect()
	for {
		got, err := e.tryLock(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			slog.Default().WarnContext(ctx, "leader election failed; retrying",
				"election", name, "retry_in", period, "error", err)
		case got:
			e.hold(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(period):
		}
	}
}

// elector is the state of one Elect loop.
type elector struct {
	cfg    *pgx.ConnConfig
	name   string
	period time.Duration
	lead   func(ctx context.Context)
	locked func(pid uint32)

	conn *pgx.Conn // nil until connected, and after a failure
	key  int64     // the lock key; set with conn
}

// tryLock connects if needed and tries to take the lock once. A failed
// connection is dropped, to be made anew by the next try.
func (e *elector) tryLock(ctx context.Context) (bool, error) {
	if e.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, e.cfg)
		if err != nil {
			return false, fmt.Errorf("connect: %w", err)
		}
		var database, schema string
		if err := conn.QueryRow(ctx, `SELECT current_database(), coalesce(current_schema(), '')`).
			Scan(&database, &schema); err != nil {
			closeConn(conn)
			return false, fmt.Errorf("find schema: %w", err)
		}
		e.conn, e.key = conn, leaderLockID(database, schema, e.name)
	}
	var got bool
	if err := e.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&got); err != nil {
		e.disconnect()
		return false, fmt.Errorf("try lock: %w", err)
	}
	return got, nil
}

// hold runs lead while the lock is held: until ctx ends, lead returns, or
// a check finds the connection gone. It waits for lead to return, then
// gives the lock up (with the connection when that is lost or ctx ended).
func (e *elector) hold(ctx context.Context) {
	if e.locked != nil {
		e.locked(e.conn.PgConn().PID())
	}
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.lead(leadCtx)
	}()
	ticker := time.NewTicker(e.period)
	defer ticker.Stop()
	var lost error
watch:
	for {
		select {
		case <-ctx.Done():
			break watch
		case <-done:
			break watch
		case <-ticker.C:
			if lost = ping(ctx, e.conn, max(e.period, time.Second)); lost != nil {
				if ctx.Err() == nil {
					slog.Default().WarnContext(ctx, "leader lost its connection; leadership ends",
						"election", e.name, "error", lost)
				}
				break watch
			}
		}
	}
	cancel()
	<-done
	if lost != nil || ctx.Err() != nil {
		e.disconnect() // the session's end frees the lock
		return
	}
	unlockCtx, stop := context.WithTimeout(context.Background(), max(e.period, time.Second))
	defer stop()
	var released bool
	err := e.conn.QueryRow(unlockCtx, `SELECT pg_advisory_unlock($1)`, e.key).Scan(&released)
	if err != nil || !released {
		e.disconnect()
	}
}

// disconnect closes the lock's connection, if any.
func (e *elector) disconnect() {
	if e.conn != nil {
		closeConn(e.conn)
		e.conn = nil
	}
}

// leaderLockID is the advisory lock key of the election name in one
// schema; it differs from the keys of migrations and Claim.
func leaderLockID(database, schema, name string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "dynpool elect %s.%s %s", database, schema, name)
	return int64(h.Sum64())
}
