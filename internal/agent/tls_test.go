package agent

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// An agent given a server fingerprint talks to that server only: a server
// with another certificate (a network attacker's) gets no registration.
func TestAgentRefusesAServerWithAnotherCertificate(t *testing.T) {
	t.Parallel()
	f, _ := newFakeServer(t)
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	pin := tlspin.Fingerprint(srv.Certificate().Raw)

	// The pinned certificate: the agent registers.
	startAgentWith(t, srv.URL, func(c *Config) { c.ServerFingerprint = pin })
	runJob(t, f, &api.Job{ID: "job-ok", Syntax: "sh", Script: "echo hi"})

	// Another pin: Run gives up, saying why, and never registered.
	other := "sha256:" + strings.Repeat("ab", 32)
	done := startAgentWith(t, srv.URL, func(c *Config) {
		c.ServerFingerprint = other
		c.ServerUnreachableTimeout = 300 * time.Millisecond
	})
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is not the one this agent was given") {
			t.Fatalf("Run against a server with another certificate = %v, want the pin refused", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not give up")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.auth["/agent/v1/register"]); n != 1 {
		t.Errorf("register calls the server saw = %d, want only the pinned agent's", n)
	}
}
