package server_test

import (
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/store/postgres"
)

// postgresURL returns a URL of a fresh schema on the server named by
// DYNPOOL_TEST_POSTGRES_URL, dropped when the test ends, or skips.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("DYNPOOL_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("DYNPOOL_TEST_POSTGRES_URL is not set; start PostgreSQL with `bash .ci/postgres.sh` and export the line it prints")
	}
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	defer conn.Close(t.Context())
	schema := "server_" + id.New("t")[2:]
	if _, err := conn.Exec(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(t.Context(), base)
		if err == nil {
			_, _ = c.Exec(t.Context(), `DROP SCHEMA `+schema+` CASCADE`)
			c.Close(t.Context())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestTaskRunsOnThePostgresStore(t *testing.T) {
	t.Parallel()
	dbURL := postgresURL(t)
	s := startServer(t, func(c *server.Config) { c.DatabaseURL = dbURL })
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := clientFor(s, tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"}); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	task, lines := runTask(t, c,
		api.StepRequest{Name: "build", Script: "echo built on postgres"},
		api.StepRequest{Name: "check", Syntax: api.SyntaxPython, Script: "print(6*7)"},
		api.StepRequest{Name: "binary", Script: `printf 'nul\0byte\n'`},
	)
	if task.State != api.StateSuccess || !logHas(lines, api.LevelInfo, "built on postgres") || !logHas(lines, api.LevelInfo, "42") ||
		!logHas(lines, api.LevelInfo, "nul\uFFFDbyte") {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}

	// A second server on the same database is a replica: it sees the
	// same tenants and tasks.
	second := startServer(t, func(c *server.Config) { c.DatabaseURL = dbURL })
	if got, err := clientFor(second, tn.APIKey).GetTask(t.Context(), task.ID); err != nil || got.State != api.StateSuccess {
		t.Fatalf("the task through the replica = %+v, %v; want it, succeeded", got, err)
	}
}

func postgresStore(t *testing.T, dbURL string) (*postgres.Store, error) {
	t.Helper()
	return postgres.Open(t.Context(), dbURL)
}
