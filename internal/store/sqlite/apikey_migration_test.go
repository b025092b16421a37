package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestMigration008MovesEachTenantsKey holds the upgrade to several API
// keys per tenant to its promise: a tenant made before it keeps signing
// in with its key, now listed as key "k-<tenant>" without a prefix.
func TestMigration008MovesEachTenantsKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dynpool.db")
	db, err := sql.Open("sqlite", path+"?"+dsnParams)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(migrations, "migration")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 7); err != nil {
		t.Fatalf("migrate up to 007: %v", err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO tenants (id, name, api_key_hash, created_at) VALUES ('t1', 'Acme', 'old-hash', 5), ('t2', 'Keyless', '', 6)`); err != nil {
		t.Fatalf("insert tenants as 007 had them: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open (migrates to the newest): %v", err)
	}
	defer s.Close()
	tn, err := s.TenantGetByKeyHash(t.Context(), "old-hash")
	if err != nil || tn.ID != "t1" {
		t.Fatalf("the old key after the migration finds %v, %v; want t1", tn, err)
	}
	keys, err := s.APIKeyList(t.Context(), "t1")
	if err != nil || len(keys) != 1 || keys[0].ID != "k-t1" || keys[0].Prefix != "" || keys[0].CreatedAt != decTime(5) {
		t.Fatalf("keys of t1 = %+v, %v; want k-t1 without a prefix, made with the tenant", keys, err)
	}
	if keys, err := s.APIKeyList(t.Context(), "t2"); err != nil || len(keys) != 0 {
		t.Fatalf("keys of a keyless tenant = %+v, %v; want none", keys, err)
	}
}
