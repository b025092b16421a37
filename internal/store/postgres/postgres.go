// Package postgres is the PostgreSQL backend of [store.Store], for a
// server that runs as several replicas or wants a database it does not
// host itself. Its schema comes from the embedded migrations in
// migration/, applied by goose at [Open].
//
// It talks to PostgreSQL through pgx v5's own pool (pgxpool) rather than
// database/sql: pgx scans timestamptz, text[] and NULLs into Go types
// directly, reports server errors as *pgconn.PgError with their SQLSTATE,
// and caches prepared statements per connection. Only goose needs a
// *sql.DB; it gets one over the same pool (stdlib.OpenDBFromPool) for the
// time of the migration.
//
// # Concurrency
//
// Every method is one statement or one transaction at READ COMMITTED, safe
// across connections and replicas:
//
//   - Compare-and-set updates (TaskUpdate, StepUpdate, StepDispatch,
//     WorkerUpdate) and [Store.TaskClaim] put the state or lease guard in
//     the UPDATE's WHERE clause, which PostgreSQL re-checks on the newest
//     row version after waiting for a concurrent writer.
//   - [Store.InstallationID] inserts into a one-row table with ON CONFLICT
//     DO NOTHING (waiting for a concurrent insert to commit), then reads
//     the row in a new statement.
//   - [Store.LogAppend] locks the task row, then reads the last Seq in a new
//     statement (so its snapshot sees the previous appender's lines).
//   - [Store.WorkerAcquireIdle] picks its worker with FOR UPDATE SKIP
//     LOCKED, so concurrent callers take different workers without waiting.
//   - PoolCreate and PoolUpdate that set the default flag lock the tenant
//     row, so two of them never leave two default pools.
//   - Migrations at Open hold a session advisory lock keyed by database and
//     schema, so replicas starting together apply each migration once.
//
// Beyond the store, replicas coordinate through [Store.Publish] and
// [Listen] (LISTEN/NOTIFY, for hints that something changed) and [Elect]
// (one leader at a time, through a session advisory lock).
//
// # Times
//
// Times are timestamptz: an instant with microsecond precision, the finest
// the store contract asks for. A finer time is truncated to the microsecond
// when written (also the times compared against, like the now of
// WorkerAcquireIdle), and every time is returned in UTC.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/dynpool/dynpool/internal/store"
)

//go:embed migration/*.sql
var migrations embed.FS

// DefaultConnectTimeout bounds each connection attempt, and the first
// connection [Open] makes, when the URL sets no connect_timeout: a server
// that is down or a port that swallows packets fails Open within seconds
// instead of hanging.
const DefaultConnectTimeout = 5 * time.Second

// migrationLockSeconds is how long Open waits, in seconds, for another
// replica's migration before giving up (polling once a second).
const migrationLockSeconds = 300

// SQLSTATE codes mapped to the store sentinels (PostgreSQL manual,
// appendix A "PostgreSQL Error Codes").
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// Store is a [store.Store] kept in one PostgreSQL schema. It is safe for
// concurrent use, also with other Stores (other replicas) on the same
// schema.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database named by url, a postgres:// URL
// or a keyword/value connection string as libpq takes them (pgxpool's
// pool_* settings included), and brings its schema up to date. The tables
// live in the first existing schema of the connection's search_path
// (public unless the URL sets search_path). Errors name the URL with its
// password hidden. The caller closes the Store.
func Open(ctx context.Context, url string) (*Store, error) {
	name := redact(url)
	cfg, err := parseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	// The pool connects lazily; connect once now so that a wrong URL, a
	// wrong password or a server that is down fails here, within the
	// connect timeout even when fallback hosts or TLS modes are tried.
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout)
	err = pool.Ping(pingCtx)
	cancel()
	if err != nil {
		pool.Close()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("open postgres %s: connect: no answer within %v (connect_timeout): %w",
				name, cfg.ConnConfig.ConnectTimeout, err)
		}
		return nil, fmt.Errorf("open postgres %s: connect: %w", name, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	return &Store{pool: pool}, nil
}

// parseConfig parses url into a pool configuration, applying
// DefaultConnectTimeout when url sets none.
func parseConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message is "cannot parse `<url, redacted>`: <why>"; the
		// caller's message names the URL already.
		msg := err.Error()
		if _, why, ok := strings.Cut(msg, "`: "); ok {
			msg = why
		}
		return nil, fmt.Errorf("parse url: %s", msg)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	return cfg, nil
}

// Passwords in connection strings: in a keyword/value string, in the
// user info of a URL, in the query of a URL.
var (
	keywordPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(\\.|[^'])*'|\S+)`)
	userInfoPassword = regexp.MustCompile(`(://[^/@:]*:)[^@]*@`)
	queryPassword    = regexp.MustCompile(`(?i)([?&]password=)[^&]*`)
)

// redact returns s, a connection URL or keyword/value string, with its
// password replaced by "xxxxx", also when s does not parse.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if strings.Contains(s, "://") {
		s = userInfoPassword.ReplaceAllString(s, "${1}xxxxx@")
		return queryPassword.ReplaceAllString(s, "${1}xxxxx")
	}
	return keywordPassword.ReplaceAllString(s, "${1}xxxxx")
}

// migrate applies the embedded migrations not yet recorded in the schema,
// under an advisory lock of that database and schema.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	var database, schema *string
	if err := pool.QueryRow(ctx, `SELECT current_database(), current_schema()`).Scan(&database, &schema); err != nil {
		return fmt.Errorf("find schema: %w", err)
	}
	if schema == nil {
		return errors.New("find schema: no schema of the search_path exists")
	}
	fsys, err := fs.Sub(migrations, "migration")
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID(*database, *schema)),
		lock.WithLockTimeout(1, migrationLockSeconds))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() // leaves the pool open
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate schema %s: %w", *schema, err)
	}
	return nil
}

// migrationLockID is the advisory lock key of the migrations of one
// schema: stores in other schemas of the database migrate in parallel.
func migrationLockID(database, schema string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "dynpool migrate %s.%s", database, schema)
	return int64(h.Sum64())
}

// Close closes every connection of the pool, waiting for those in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// inTx runs fn in one READ COMMITTED transaction, committing when fn
// returns nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// inSnapshot runs fn in one read-only REPEATABLE READ transaction, so
// that its several queries see one snapshot.
func (s *Store) inSnapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// mapErr turns constraint failures into the store sentinels: a unique or
// primary key violation is [store.ErrConflict], a foreign key violation (a
// row naming a tenant or task that does not exist) is [store.ErrNotFound],
// and pgx.ErrNoRows is [store.ErrNotFound]. Other errors pass unchanged.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case codeForeignKeyViolation:
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// checkAffected returns store.ErrNotFound when tag changed no row.
func checkAffected(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// casUpdate runs UPDATE table SET set WHERE id = $n, and when fromStates
// is not empty also AND state = ANY(fromStates); set numbers its
// parameters from $1 (args). No row changed is ErrConflict when the row
// exists, else ErrNotFound.
func (s *Store) casUpdate(ctx context.Context, table, id string, fromStates []string, set string, args ...any) error {
	args = append(args, id)
	query := fmt.Sprintf(`UPDATE %s SET %s WHERE id = $%d`, table, set, len(args))
	if len(fromStates) > 0 {
		args = append(args, fromStates)
		query += fmt.Sprintf(` AND state = ANY($%d)`, len(args))
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	return s.conflictOrMissing(ctx, tag, table, id)
}

// conflictOrMissing checks that an UPDATE of row id changed it: if not,
// the row exists (ErrConflict: a guard did not hold) or not (ErrNotFound).
func (s *Store) conflictOrMissing(ctx context.Context, tag pgconn.CommandTag, table, id string) error {
	if tag.RowsAffected() > 0 {
		return nil
	}
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return store.ErrConflict
}

// withKeepalives makes the server probe a long-lived connection (a
// leader's lock, a listener) every few seconds, so one whose machine died
// or was cut off is closed in about 11 s, not after the system's default of
// two hours: until then its advisory lock would keep every other replica
// from leading.
func withKeepalives(cfg *pgx.ConnConfig) {
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
}
