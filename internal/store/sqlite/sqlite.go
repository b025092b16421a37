// Package sqlite is the SQLite backend of [store.Store], through the pure Go
// driver modernc.org/sqlite. One file holds the whole state; its schema comes
// from the embedded migrations in migration/, applied by goose at [Open].
//
// The database runs in WAL mode behind a single connection, so every
// statement is serialized in the process and writers never meet
// SQLITE_BUSY; write transactions begin IMMEDIATE so a second process
// waits (busy_timeout 10 s) instead of deadlocking.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dynpool/dynpool/internal/store"
)

//go:embed migration/*.sql
var migrations embed.FS

// dsnParams are the connection settings every connection opens with.
const dsnParams = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_txlock=immediate"

// Store is a [store.Store] kept in one SQLite file. It is safe for
// concurrent use.
type Store struct {
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the SQLite database at path and brings
// its schema up to date. The directory of path must exist; path must not
// contain '?'. The caller closes the Store.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("open sqlite %s: path must not contain '?'", path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open sqlite %s: directory: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open sqlite %s: %s is not a directory", path, dir)
	}
	db, err := sql.Open("sqlite", path+"?"+dsnParams)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and a single connection
	// makes SQLITE_BUSY impossible within the process.
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// migrate applies the embedded migrations not yet recorded in the database.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migration")
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE), committing when
// fn returns nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// mapErr turns constraint failures into the store sentinels: a unique or
// primary key violation is [store.ErrConflict], a foreign key violation (a
// row naming a tenant or task that does not exist) is [store.ErrNotFound],
// and sql.ErrNoRows is [store.ErrNotFound]. Other errors pass unchanged.
func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// checkAffected returns store.ErrNotFound when res changed no row.
func checkAffected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// casUpdate runs UPDATE table SET set WHERE id = ?, and when fromStates is
// not empty also AND state IN fromStates. No row changed is ErrConflict
// when the row exists, else ErrNotFound.
func (s *Store) casUpdate(ctx context.Context, table, id string, fromStates []string, set string, args ...any) error {
	query := `UPDATE ` + table + ` SET ` + set + ` WHERE id = ?`
	args = append(args, id)
	if len(fromStates) > 0 {
		list, stateArgs := inList(fromStates)
		query += ` AND state IN ` + list
		args = append(args, stateArgs...)
	}
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	return s.conflictOrMissing(ctx, res, table, id)
}

// conflictOrMissing checks that an UPDATE of row id changed it: if not,
// the row exists (ErrConflict: a guard did not hold) or not (ErrNotFound).
func (s *Store) conflictOrMissing(ctx context.Context, res sql.Result, table, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return store.ErrConflict
}
