package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/agent"
)

// Tenant and pool changes are recorded with who, what, when and the
// source address; a tenant reads its own entries, the operator any.
func TestAuditLogRecordsChanges(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tn, err := s.admin.CreateTenant(t.Context(), "acme") // tenant.create by the admin
	if err != nil {
		t.Fatal(err)
	}
	acmeID, key := tn.ID, tn.APIKey
	acme := clientFor(s, key)
	pool, err := acme.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default"})
	if err != nil {
		t.Fatal(err)
	}
	s.tenant(t, "globex")
	image := "ubuntu-22.04"
	if _, err := acme.UpdatePool(t.Context(), pool.ID, api.UpdatePoolRequest{Image: &image}); err != nil {
		t.Fatalf("update pool: %v", err)
	}
	two := 2
	if _, err := s.admin.UpdateTenant(t.Context(), acmeID, api.UpdateTenantRequest{MaxWorkers: &two}); err != nil {
		t.Fatalf("update tenant: %v", err)
	}

	read := func(url, token string) []api.AuditEntry {
		t.Helper()
		status, body := get(t, url, token)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, status, body)
		}
		var l api.AuditList
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		return l.Entries
	}
	minusOne := -1
	if _, err := s.admin.UpdateTenant(t.Context(), acmeID, api.UpdateTenantRequest{MaxWorkers: &minusOne}); err == nil {
		t.Fatal("a negative max_workers was accepted")
	}
	mine := read(s.URL()+"/api/v1/audit", key)
	want := []struct{ actor, action, detail string }{
		{"admin", "tenant.update", "overrides: idle timeout 0s, max lifetime 0s, max workers 2 (0: the server's)"},
		{"tenant acme", "pool.update", "image ubuntu-default → ubuntu-22.04"},
		{"tenant acme", "pool.create", "named Linux, image ubuntu-default"},
		{"admin", "tenant.create", "named acme"},
	}
	if len(mine) != len(want) {
		t.Fatalf("acme's audit = %+v, want %d entries", mine, len(want))
	}
	checkAudit(t, mine, acmeID, want)
	if all := read(s.URL()+"/api/v1/admin/audit", s.AdminToken()); len(all) != len(want)+2 {
		t.Errorf("the operator's audit has %d entries, want acme's %d and globex's 2", len(all), len(want))
	}
	if one := read(s.URL()+"/api/v1/admin/audit?tenant="+acmeID+"&limit=1", s.AdminToken()); len(one) != 1 || one[0].Action != "tenant.update" {
		t.Errorf("the operator's audit of acme, limit 1 = %+v", one)
	}
	if status, _ := get(t, s.URL()+"/api/v1/admin/audit?limit=0", s.AdminToken()); status != http.StatusBadRequest {
		t.Errorf("limit=0 answered %d, want 400", status)
	}
}

// checkAudit compares a tenant's entries, newest first, with want.
func checkAudit(t *testing.T, got []api.AuditEntry, tenantID string, want []struct{ actor, action, detail string }) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("audit = %+v, want %d entries", got, len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.Actor != w.actor || e.Action != w.action || e.Detail != w.detail || e.TenantID != tenantID || e.Source != "127.0.0.1" || e.Time.IsZero() {
			t.Errorf("entry %d = %+v, want %s %s %q from 127.0.0.1", i, e, w.actor, w.action, w.detail)
		}
	}
}

// Registering and deleting machines, API keys, pool deletion and step
// templates are changes too (found by review: they left no entry).
func TestAuditLogRecordsMachinesKeysAndTemplates(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := clientFor(s, tn.APIKey)
	pool, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "builders", Type: api.PoolTypeStatic})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateRegistrationToken(t.Context(), pool.ID, "10m")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := agent.RegisterStatic(t.Context(), agent.RegisterStaticParams{ServerURL: s.URL(), Token: tok.Token, Pool: pool.Name, Name: "box-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWorker(t.Context(), cred.WorkerID); err != nil {
		t.Fatal(err)
	}
	key, err := s.admin.CreateAPIKey(t.Context(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.admin.RevokeAPIKey(t.Context(), tn.ID, key.ID); err != nil {
		t.Fatal(err)
	}
	st := importTemplate(t, c, []byte(secretDefaultTemplate))
	if err := c.DeleteStepTemplate(t.Context(), st.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePool(t.Context(), pool.ID); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, s.URL()+"/api/v1/audit", tn.APIKey)
	if status != http.StatusOK {
		t.Fatalf("GET audit: %d %s", status, body)
	}
	var l api.AuditList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	checkAudit(t, l.Entries, tn.ID, []struct{ actor, action, detail string }{
		{"tenant acme", "pool.delete", "named builders"},
		{"tenant acme", "step_template.delete", ""},
		{"tenant acme", "step_template.create", "Secret default version 1"},
		{"admin", "apikey.revoke", ""},
		{"admin", "apikey.create", "prefix " + key.Prefix},
		{"tenant acme", "worker.delete", "static worker deleted; its credential died"},
		{"agent", "worker.register", "machine box-1 into pool builders"},
		{"tenant acme", "registration_token.create", "for pool builders, expires " + tok.ExpiresAt.UTC().Format(time.RFC3339)},
		{"tenant acme", "pool.create", "named builders, static"},
		{"admin", "tenant.create", "named acme"},
	})
}
