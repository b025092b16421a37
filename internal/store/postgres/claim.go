package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrInUse is returned by Claim when another dynpool server holds the
// database.
var ErrInUse = errors.New("another dynpool server uses this database")

// claimCheckPeriod is how often a Claim checks that its connection, and
// so its lock, is still there.
const claimCheckPeriod = 5 * time.Second

// Claimed is a database held by one server; see Claim.
type Claimed struct {
	conn    *pgx.Conn
	key     int64
	lost    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	release sync.Once
}

// Claim makes the caller the only dynpool server on the database (and
// schema) of url, through a session advisory lock on a connection of its
// own, before anything touches the schema (so a second server does not
// even migrate it). Until several replicas can share one database (leader
// election, notifications between servers), a second server would take
// the first one's workers for lost, so it is refused with ErrInUse. The
// lock lives as long as its connection: Lost is closed when a periodic
// check finds the connection gone, and the server must stop then.
func Claim(ctx context.Context, url string) (*Claimed, error) {
	cfg, err := parseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("claim database %s: %w", redact(url), err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("claim database %s: %w", redact(url), err)
	}
	var database, schema string
	if err := conn.QueryRow(ctx, `SELECT current_database(), coalesce(current_schema(), '')`).Scan(&database, &schema); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("claim database %s: %w", redact(url), err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "dynpool server %s.%s", database, schema)
	key := int64(h.Sum64())
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("claim database %s: %w", redact(url), err)
	}
	if !got {
		conn.Close(ctx)
		return nil, fmt.Errorf("claim database %s (schema %s): %w; several replicas are not supported yet", database, schema, ErrInUse)
	}
	c := &Claimed{conn: conn, key: key, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go c.watch()
	return c, nil
}

// Lost is closed when the claim's connection, and with it the lock, is gone.
func (c *Claimed) Lost() <-chan struct{} { return c.lost }

// Release gives the claim up. It is safe to call more than once.
func (c *Claimed) Release() {
	c.release.Do(func() {
		close(c.stop)
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = c.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, c.key)
		_ = c.conn.Close(ctx)
	})
}

func (c *Claimed) watch() {
	defer close(c.done)
	ticker := time.NewTicker(claimCheckPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), claimCheckPeriod)
		err := c.conn.Ping(ctx)
		cancel()
		if err != nil {
			close(c.lost)
			return
		}
	}
}
