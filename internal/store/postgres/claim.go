package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
)

// ErrInUse is returned by Claim when another dynpool server holds the
// database.
var ErrInUse = errors.New("another dynpool server uses this database")

// Claim makes this server the only one on the database (and schema) for
// as long as it runs, through a session advisory lock held on a connection
// of its own; release gives it up. Until several replicas can share one
// database (leader election, notifications between servers), a second
// server would take the first one's workers for lost, so it must not
// start: Claim answers ErrInUse.
func (s *Store) Claim(ctx context.Context) (release func(), err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim database: %w", err)
	}
	var database, schema string
	if err := conn.QueryRow(ctx, `SELECT current_database(), current_schema()`).Scan(&database, &schema); err != nil {
		conn.Release()
		return nil, fmt.Errorf("claim database: %w", err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "dynpool server %s.%s", database, schema)
	key := int64(h.Sum64())
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Release()
		return nil, fmt.Errorf("claim database: %w", err)
	}
	if !got {
		conn.Release()
		return nil, fmt.Errorf("claim database %s (schema %s): %w; several replicas are not supported yet", database, schema, ErrInUse)
	}
	return func() {
		_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Release()
	}, nil
}
