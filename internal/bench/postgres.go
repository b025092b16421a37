package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshSchema creates an empty schema on the PostgreSQL server at base and
// returns a URL whose search_path selects it, and a func that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	schema := "dynpool_bench_" + strings.ToLower(rand.Text()[:12])
	if err := pgExec(ctx, base, `CREATE SCHEMA `+schema); err != nil {
		return "", nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = pgExec(ctx, base, `DROP SCHEMA `+schema+` CASCADE`)
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		drop()
		return "", nil, fmt.Errorf("postgres URL %q is not a URL", base)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// pgExec runs one statement on a connection of its own.
func pgExec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
