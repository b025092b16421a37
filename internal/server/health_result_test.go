package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/server"
)

// staticMachine makes static pool "machines" of a new tenant with check
// hc and registers one machine without running its agent: the test
// heartbeats by hand. It returns the tenant's client, the worker id and
// its credential.
func staticMachine(t *testing.T, s *testServer, hc *api.HealthCheck) (*client.Client, string, string) {
	t.Helper()
	acme := s.tenant(t, "acme")
	if _, err := acme.CreatePool(t.Context(), api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic, HealthCheck: hc}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	tok, err := acme.CreateRegistrationToken(t.Context(), "machines", "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := agent.RegisterStatic(t.Context(), agent.RegisterStaticParams{ServerURL: s.URL(), Token: tok.Token, Pool: "machines", Name: "box"})
	if err != nil {
		t.Fatal(err)
	}
	return acme, cred.WorkerID, cred.Credential
}

// heartbeatWith posts a heartbeat carrying outcome res and marks t
// failed unless it succeeds (from any goroutine).
func heartbeatWith(t *testing.T, s *testServer, credential string, res api.HealthCheckResult) {
	t.Helper()
	body, err := json.Marshal(api.HeartbeatRequest{HealthCheck: &res})
	if err != nil {
		t.Fatal(err)
	}
	if status, answer := post(t, s.URL()+"/agent/v1/heartbeat", credential, string(body)); status != http.StatusOK {
		t.Errorf("heartbeat with %+v: %d %s", res, status, answer)
	}
}

// TestHealthResultOfAnotherCheckIgnored: an outcome whose key is not the
// pool's current check's (the script changed while it ran) is not
// recorded; one with the current key is.
func TestHealthResultOfAnotherCheckIgnored(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	current := &api.HealthCheck{Syntax: "bash", Script: "docker info"}
	acme, wid, cred := staticMachine(t, s, current)
	old := api.HealthCheck{Syntax: "bash", Script: "exit 1"}
	heartbeatWith(t, s, cred, api.HealthCheckResult{Status: api.HealthFailed, Message: "old script", Key: old.Key()})
	heartbeatWith(t, s, cred, api.HealthCheckResult{Status: api.HealthFailed, Message: "no key"})
	if h := workerByID(t, acme, wid).HealthCheck; h != nil {
		t.Fatalf("worker health = %+v after outcomes of other checks, want none recorded", h)
	}
	heartbeatWith(t, s, cred, api.HealthCheckResult{Status: api.HealthWarning, Message: "current", Key: current.Key()})
	if h := workerByID(t, acme, wid).HealthCheck; h == nil || h.Status != api.HealthWarning || h.Message != "current" {
		t.Errorf("worker health = %+v, want the current check's warning", h)
	}
}

// TestHealthOutcomesThrottled: an agent sending alternating outcomes in a
// tight loop (a flapping check, a hand-made agent), in turn and at once,
// gets at most one outcome recorded per half of the check's interval,
// and at most that many worker.health audit entries written; warning ↔
// healthy is recorded on the worker but not audited. On SQLite, and on
// PostgreSQL when DYNPOOL_TEST_POSTGRES_URL is set.
func TestHealthOutcomesThrottled(t *testing.T) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		testHealthOutcomesThrottled(t, "")
	})
	t.Run("Postgres", func(t *testing.T) {
		t.Parallel()
		testHealthOutcomesThrottled(t, postgresURL(t))
	})
}

func testHealthOutcomesThrottled(t *testing.T, databaseURL string) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	s := startServer(t, func(c *server.Config) { c.Clock, c.DatabaseURL = clock, databaseURL })
	check := &api.HealthCheck{Syntax: "bash", Script: "docker info", Interval: "10s", Timeout: "5s"}
	acme, wid, cred := staticMachine(t, s, check)
	outcome := func(i int) api.HealthCheckResult {
		status := []string{api.HealthFailed, api.HealthHealthy}[i%2]
		return api.HealthCheckResult{Status: status, Message: fmt.Sprint(i), Key: check.Key()}
	}
	entries := func() int { return len(healthAudit(t, s, "")[wid]) }

	for i := range 20 {
		heartbeatWith(t, s, cred, outcome(i))
	}
	if h := workerByID(t, acme, wid).HealthCheck; h == nil || h.Status != api.HealthFailed || h.Message != "0" {
		t.Errorf("after a burst: health %+v, want the first outcome only", h)
	}
	if n := entries(); n != 1 {
		t.Errorf("after a burst: %d worker.health entries, want 1", n)
	}

	// Half the interval later, the same change 20 times at once: one
	// more entry.
	clock.Advance(5 * time.Second)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { heartbeatWith(t, s, cred, outcome(1)) })
	}
	wg.Wait()
	if n := entries(); n != 2 {
		t.Errorf("after a concurrent burst: %d worker.health entries, want 2", n)
	}

	// warning ↔ healthy is recorded, not audited.
	for _, status := range []string{api.HealthHealthy, api.HealthWarning, api.HealthHealthy} {
		clock.Advance(5 * time.Second)
		heartbeatWith(t, s, cred, api.HealthCheckResult{Status: status, Key: check.Key()})
		if h := workerByID(t, acme, wid).HealthCheck; h == nil || h.Status != status {
			t.Errorf("health %+v, want %s recorded", h, status)
		}
	}
	if n := entries(); n != 2 {
		t.Errorf("%d worker.health entries, want still 2 (only changes into or out of failed are audited)", n)
	}
}
