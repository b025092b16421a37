package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reconnect backoff of [Listen]: the wait after a lost connection or a
// failed attempt doubles from listenRetryMin up to listenRetryMax, and
// starts from listenRetryMin again once a LISTEN is in place.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 10 * time.Second
)

// listenCheckPeriod is how long [Listen] waits for a notification before it
// pings its connection, so that a connection lost without a word (a
// dropped network path, which TCP reports only after minutes) is noticed
// within about this time.
const listenCheckPeriod = 30 * time.Second

// pingTimeout bounds the ping that checks a quiet connection.
const pingTimeout = 5 * time.Second

// Publish sends payload on channel to every listener (pg_notify).
//
// Notification channels belong to the database, not to a schema: stores in
// several schemas of one database hear each other's channels unless the
// channel name tells them apart (say, by installation id). PostgreSQL
// delivers a payload shorter than 8000 bytes, once, to the sessions
// listening at the time (NOTIFY in the PostgreSQL manual); a listener that
// is reconnecting misses it, so a notification is a hint to look at the
// store, never the only copy of a change.
func (s *Store) Publish(ctx context.Context, channel, payload string) error {
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("publish on %s: %w", channel, err)
	}
	return nil
}

// Listen calls fn with the payload of every notification on channel until
// ctx ends, on a connection of its own, reconnecting (with LISTEN again)
// after a lost connection with a capped backoff; ready, if not nil, is
// closed once the first LISTEN is in place. It returns ctx's error.
//
// url is as for [Open]; one that does not parse is an error at once. fn
// runs on Listen's goroutine, one payload at a time, in the order they
// were sent; while it runs, further notifications wait (in the
// connection's buffers). Notifications sent while Listen reconnects are
// lost (see [Store.Publish]). A quiet connection is pinged every 30 s to
// notice a silent loss. Lost connections are logged to slog.Default(),
// as Listen takes no logger.
func Listen(ctx context.Context, url, channel string, ready chan<- struct{}, fn func(payload string)) error {
	return listen(ctx, url, channel, ready, fn, nil)
}

// listen is Listen; listening, if not nil, is called with the backend pid
// of the connection each time its LISTEN is in place (for tests).
func listen(ctx context.Context, url, channel string, ready chan<- struct{}, fn func(payload string),
	listening func(pid uint32)) error {
	cfg, err := parseConfig(url)
	if err != nil {
		return fmt.Errorf("listen on %s at %s: %w", channel, redact(url), err)
	}
	withKeepalives(cfg.ConnConfig)
	wait := listenRetryMin
	for {
		err := listenOnce(ctx, cfg.ConnConfig, channel, fn, func(pid uint32) {
			wait = listenRetryMin
			if ready != nil {
				close(ready)
				ready = nil
			}
			if listening != nil {
				listening(pid)
			}
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		slog.Default().WarnContext(ctx, "postgres listener lost its connection; reconnecting",
			"channel", channel, "retry_in", wait, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce connects, listens on channel, calls listening with the
// connection's backend pid and then fn for every notification, until the
// connection fails or ctx ends. It always returns an error.
func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, channel string, fn func(string), listening func(pid uint32)) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening(conn.PgConn().PID())
	for {
		// A wait that times out leaves the connection usable: pgx's default
		// context handler only sets a deadline on the socket.
		waitCtx, cancel := context.WithTimeout(ctx, listenCheckPeriod)
		n, err := conn.WaitForNotification(waitCtx)
		quiet := waitCtx.Err() != nil
		cancel()
		switch {
		case err == nil:
			if n != nil {
				fn(n.Payload)
			}
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !quiet:
			return fmt.Errorf("wait for notification: %w", err)
		}
		if err := ping(ctx, conn, pingTimeout); err != nil {
			return err
		}
	}
}

// ping checks that conn still answers within timeout. Notifications that
// arrive meanwhile are kept for the next WaitForNotification.
func ping(ctx context.Context, conn *pgx.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// closeConn closes conn, waiting at most a second to tell the server,
// which then ends the session (and releases its locks).
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx) // closed on our side either way
}
