package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/agent"
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

// heartbeatWith posts a heartbeat carrying outcome res and fails t
// unless it succeeds.
func heartbeatWith(t *testing.T, s *testServer, credential string, res api.HealthCheckResult) {
	t.Helper()
	body, err := json.Marshal(api.HeartbeatRequest{HealthCheck: &res})
	if err != nil {
		t.Fatal(err)
	}
	if status, answer := post(t, s.URL()+"/agent/v1/heartbeat", credential, string(body)); status != http.StatusOK {
		t.Fatalf("heartbeat with %+v: %d %s", res, status, answer)
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
	if h := workerState(t, acme, wid).HealthCheck; h != nil {
		t.Fatalf("worker health = %+v after outcomes of other checks, want none recorded", h)
	}
	heartbeatWith(t, s, cred, api.HealthCheckResult{Status: api.HealthWarning, Message: "current", Key: current.Key()})
	if h := workerState(t, acme, wid).HealthCheck; h == nil || h.Status != api.HealthWarning || h.Message != "current" {
		t.Errorf("worker health = %+v, want the current check's warning", h)
	}
}
