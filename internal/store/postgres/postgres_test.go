package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/storetest"
)

// urlEnv names the server the tests create their schemas on.
const urlEnv = "DYNPOOL_TEST_POSTGRES_URL"

// serverURL returns the test server's URL, or skips t when none is set.
func serverURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(urlEnv)
	if u == "" {
		t.Skipf("%s is not set; to run the PostgreSQL tests, start a server with `bash .ci/postgres.sh` "+
			"(as root on Debian) and export the line it prints, e.g. "+
			"%s=postgres://dynpool:dynpool@127.0.0.1:5432/dynpool?sslmode=disable", urlEnv, urlEnv)
	}
	return u
}

// freshSchema creates an empty schema with a unique name on the test
// server, drops it (and all in it) when t ends, and returns a URL whose
// search_path selects it.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := serverURL(t)
	schema := "dynpool_test_" + strings.ToLower(rand.Text()[:12])
	admin(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { admin(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return base + " search_path=" + schema // keyword/value form
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// admin runs one statement on the server at url on a connection of its
// own. It does not use t.Context, which is done by the time cleanups run.
func admin(t *testing.T, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", redact(url), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// openFresh opens a Store on a fresh schema; it is closed when t ends.
func openFresh(t *testing.T) (*Store, string) {
	t.Helper()
	u := freshSchema(t)
	s, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, u
}

func TestConformance(t *testing.T) {
	t.Parallel()
	serverURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), freshSchema(t))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	})
}

// appliedMigrations counts the migrations recorded in s's schema.
func appliedMigrations(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	return n
}

// migrationFiles counts the embedded migrations.
func migrationFiles(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		t.Fatalf("list migrations: %v", err)
	}
	return len(files)
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	s, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	want := &store.Tenant{ID: "t1", Name: "Acme", APIKeyHash: "h", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	if err := s.TenantCreate(t.Context(), want); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for range 2 { // migrations already applied: opening again changes nothing
		s, err = Open(t.Context(), u)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		got, err := s.TenantGet(t.Context(), "t1")
		if err != nil {
			t.Fatalf("get tenant after reopen: %v", err)
		}
		if got.Name != want.Name || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("tenant after reopen = %+v, want %+v", got, want)
		}
		if got, want := appliedMigrations(t, s), migrationFiles(t); got != want {
			t.Errorf("applied migrations = %d, want %d (each applied once)", got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

// TestConcurrentOpen starts several replicas on one empty schema at once:
// the migration lock lets one apply each migration and the others see it
// done.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	const replicas = 4
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), u) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	if got, want := appliedMigrations(t, stores[0]), migrationFiles(t); got != want {
		t.Errorf("applied migrations = %d, want %d (each applied once)", got, want)
	}
}

// TestReplicas runs the concurrent log append and worker acquisition
// across two Stores on one schema, as two server replicas would.
func TestReplicas(t *testing.T) {
	t.Parallel()
	a, u := openFresh(t)
	b, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("open second replica: %v", err)
	}
	defer b.Close()
	replicas := []*Store{a, b}
	ctx := t.Context()
	if err := a.TenantCreate(ctx, &store.Tenant{ID: "t1", Name: "t1", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if err := a.TaskCreate(ctx, &store.Task{ID: "k1", TenantID: "t1", Name: "k1", State: "running", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("create task: %v", err)
	}
	const idle = 6
	for i := range idle {
		if err := a.WorkerCreate(ctx, &store.Worker{ID: fmt.Sprintf("w%d", i), TenantID: "t1", PoolID: "p1",
			Image: "img", Build: "b1", Provider: "process", State: api.WorkerIdle, CreatedAt: time.Now()}, store.WorkerLimits{}); err != nil {
			t.Fatalf("create worker: %v", err)
		}
	}

	const writers, batches, perBatch, acquirers = 6, 10, 3, 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acquired = map[string]int{}
	)
	for i := range writers {
		s := replicas[i%2]
		wg.Go(func() {
			for range batches {
				lines := make([]store.LogLine, perBatch)
				for j := range lines {
					lines[j] = store.LogLine{Time: time.Now(), Level: "info", Message: fmt.Sprintf("writer %d", i)}
				}
				if err := s.LogAppend(ctx, "k1", lines); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	for i := range acquirers {
		s := replicas[i%2]
		wg.Go(func() {
			w, err := s.WorkerAcquireIdle(ctx, &store.WorkerAcquireIdleParams{TenantID: "t1", PoolID: "p1",
				Image: "img", Build: "b1", Now: time.Now()})
			if err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("acquire: %v", err)
				}
				return
			}
			mu.Lock()
			acquired[w.ID]++
			mu.Unlock()
		})
	}
	wg.Wait()

	lines, err := b.LogList(ctx, "k1", 0, 0)
	if err != nil {
		t.Fatalf("list log: %v", err)
	}
	if len(lines) != writers*batches*perBatch {
		t.Fatalf("log lines = %d, want %d", len(lines), writers*batches*perBatch)
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) {
			t.Fatalf("line %d has Seq %d, want %d (no gaps, no duplicates)", i, l.Seq, i+1)
		}
	}
	if len(acquired) != idle {
		t.Errorf("workers acquired = %d, want all %d", len(acquired), idle)
	}
	for id, n := range acquired {
		if n > 1 {
			t.Errorf("worker %s handed out %d times", id, n)
		}
	}
}
