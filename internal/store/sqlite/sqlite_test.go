package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "dynpool.db"))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dynpool.db")
	s, err := Open(t.Context(), path)
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
		s, err = Open(t.Context(), path)
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
		var versions int
		if err := s.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0`).Scan(&versions); err != nil {
			t.Fatalf("count migrations: %v", err)
		}
		files, err := fs.Glob(migrations, "migration/*.sql")
		if err != nil {
			t.Fatalf("list migrations: %v", err)
		}
		if versions != len(files) {
			t.Errorf("applied migrations = %d, want %d (each applied once)", versions, len(files))
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	garbage := filepath.Join(dir, "garbage.db")
	for _, f := range []string{notDir, garbage} {
		if err := os.WriteFile(f, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
			t.Fatalf("write fixture: %v", err)
		}
	}
	for _, tc := range []struct {
		name    string
		path    string
		wantIs  error
		wantMsg string
	}{
		{"missing directory", filepath.Join(dir, "missing", "dynpool.db"), fs.ErrNotExist, "missing"},
		{"parent is a file", filepath.Join(notDir, "dynpool.db"), nil, "is not a directory"},
		{"question mark", filepath.Join(dir, "what?.db"), nil, "must not contain '?'"},
		{"not a database", garbage, nil, "migrate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), tc.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", tc.path)
			}
			if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Open error = %q, want it to name %s and say %q", err, tc.path, tc.wantMsg)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Open error = %v, want %v", err, tc.wantIs)
			}
		})
	}
}

// TestListExpiredUsesIndex holds WorkerListExpired to a seek on
// (state, destroy_at), so destroyed workers kept as history cost nothing.
func TestListExpiredUsesIndex(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "dynpool.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	rows, err := s.db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN SELECT `+workerColumns+
		` FROM workers WHERE destroy_at <= ? AND state IN (?, ?) ORDER BY destroy_at, id`,
		0, api.WorkerIdle, api.WorkerBusy)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("scan plan: %v", err)
		}
		plan = append(plan, detail)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "workers_state_destroy_at (state=? AND destroy_at<?)") {
		t.Errorf("plan = %q, want a seek on workers_state_destroy_at", plan)
	}
}
