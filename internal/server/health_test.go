package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
)

// workerHealth waits until worker id's last health check has status, and
// returns it.
func workerHealth(t *testing.T, c *client.Client, id, status string) *api.WorkerHealth {
	t.Helper()
	var got *api.WorkerHealth
	eventually.Holds(t, fmt.Sprintf("worker %s's health check %s", id, status), 20*time.Second, func() bool {
		got = workerByID(t, c, id).HealthCheck
		return got != nil && got.Status == status
	})
	return got
}

// setCheck replaces static pool "machines"'s health check.
func setCheck(t *testing.T, c *client.Client, hc api.HealthCheck) *api.Pool {
	t.Helper()
	p, err := c.UpdatePool(t.Context(), "machines", api.UpdatePoolRequest{HealthCheck: &hc})
	if err != nil {
		t.Fatalf("set health check: %v", err)
	}
	return p
}

// TestStaticHealthCheck: the agents of a static pool run its health
// check; a machine whose check fails gets no step while a healthy one (or
// one that only warns) does, a step with no healthy machine fails at the
// lease timeout saying so, and a check fixed by editing the pool makes the
// machines serve again. Only changes of a worker's health are audited.
// On SQLite, and on PostgreSQL when DYNPOOL_TEST_POSTGRES_URL is set.
func TestStaticHealthCheck(t *testing.T) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		testStaticHealthCheck(t, "")
	})
	t.Run("Postgres", func(t *testing.T) {
		t.Parallel()
		testStaticHealthCheck(t, postgresURL(t))
	})
}

func testStaticHealthCheck(t *testing.T, databaseURL string) {
	s := startServer(t, func(c *server.Config) {
		c.DatabaseURL = databaseURL
		c.HeartbeatInterval = 100 * time.Millisecond
		c.HeartbeatTimeout = 10 * time.Second
		// Long enough for consecutive steps on one machine under load;
		// the step that waits for a healthy machine waits this long.
		c.LeaseTimeout = 10 * time.Second
	})
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	acme := clientFor(s, tn.APIKey)
	ctx := t.Context()
	if _, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	broken := registerMachine(t, s, acme, "machines", "box-1")
	warned := registerMachine(t, s, acme, "machines", "box-2")

	// box-1's docker is down; box-2's disk fills up.
	pool := setCheck(t, acme, api.HealthCheck{Interval: "1h", Script: fmt.Sprintf(`
if [ "$DYNPOOL_WORKER_ID" = %s ]; then echo "checking docker" >&2; echo "docker: daemon not running" >&2; exit 1; fi
echo "WARNING: disk 91%% full"`, broken.workerID)})
	if hc := pool.MachinePolicy.HealthCheck; hc == nil || hc.Syntax != "bash" || hc.Interval != "1h0m0s" || hc.Timeout != "1m0s" {
		t.Fatalf("pool's health check = %+v, want bash every 1h0m0s, timeout 1m0s", hc)
	}
	h := workerHealth(t, acme, broken.workerID, api.HealthFailed)
	if h.Message != "exit code 1\nchecking docker\ndocker: daemon not running" || h.CheckedAt == nil {
		t.Errorf("failed check = %+v, want the exit code and the script's output, and when", h)
	}
	if h := workerHealth(t, acme, warned.workerID, api.HealthWarning); h.Message != "WARNING: disk 91% full" {
		t.Errorf("warning = %+v", h)
	}
	ws, err := acme.ListPoolWorkers(ctx, "machines", false)
	if err != nil || len(ws) != 2 {
		t.Fatalf("pool workers %+v, %v", ws, err)
	}
	for _, w := range ws {
		if w.State != api.WorkerIdle || w.HealthCheck == nil {
			t.Errorf("pool worker %s: state %s, health %+v; want idle with its check's outcome", w.ID, w.State, w.HealthCheck)
		}
	}

	// The unhealthy machine gets no step; the one that only warns gets
	// them all.
	step := func(name string) api.StepRequest {
		return api.StepRequest{Name: name, Pool: "machines", Syntax: "bash", Script: "echo on $DYNPOOL_WORKER_ID"}
	}
	task, _ := runTask(t, acme, step("a"), step("b"), step("c"))
	if task.State != api.StateSuccess {
		t.Fatalf("task %s: %+v", task.State, task.Steps)
	}
	for _, st := range task.Steps {
		if st.WorkerID != warned.workerID {
			t.Errorf("step %s ran on %s, want %s (the other machine is unhealthy)", st.Name, st.WorkerID, warned.workerID)
		}
	}

	// Every machine fails its check: a step waits, then fails saying why.
	// (The change cleared both outcomes: wait for both to report.)
	setCheck(t, acme, api.HealthCheck{Interval: "1h", Script: `echo "disk full" >&2; exit 1`})
	workerHealth(t, acme, warned.workerID, api.HealthFailed)
	workerHealth(t, acme, broken.workerID, api.HealthFailed)
	task, lines := runTask(t, acme, step("waits"))
	want := `all 2 workers of static pool machines are unhealthy: their health check failed ("disk full")`
	if task.State != api.StateFailed || !strings.Contains(task.Steps[0].Error, want) {
		t.Fatalf("task with every machine unhealthy: %s, %q; want failed with %q", task.State, task.Steps[0].Error, want)
	}
	if !logHas(lines, api.LevelWarning, "unhealthy") {
		t.Errorf("the task log does not say why the step waits:\n%s", dump(lines))
	}

	// The check is fixed: both machines are healthy again and take steps.
	pool = setCheck(t, acme, api.HealthCheck{Syntax: "sh", Interval: "1h", Timeout: "30s", Script: "echo all good"})
	if hc := pool.MachinePolicy.HealthCheck; hc == nil || hc.Syntax != "sh" || hc.Timeout != "30s" {
		t.Fatalf("pool's health check after the fix = %+v", hc)
	}
	for _, m := range []*machine{broken, warned} {
		if h := workerHealth(t, acme, m.workerID, api.HealthHealthy); h.Message != "all good" {
			t.Errorf("healthy check of %s = %+v", m.workerID, h)
		}
	}
	task, _ = runTask(t, acme, step("x"), step("y"))
	if task.State != api.StateSuccess {
		t.Fatalf("task after the fix: %s %+v", task.State, task.Steps)
	}
	if used := []string{task.Steps[0].WorkerID, task.Steps[1].WorkerID}; !slices.Contains(used, broken.workerID) {
		t.Errorf("steps ran on %v; want the repaired machine %s among them (it was used least recently)", used, broken.workerID)
	}

	// A pool created with a check has it from the start.
	created, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "checked", Type: api.PoolTypeStatic,
		HealthCheck: &api.HealthCheck{Syntax: "python", Script: "print('ok')", Interval: "2m"}})
	if err != nil || created.MachinePolicy.HealthCheck == nil || created.MachinePolicy.HealthCheck.Interval != "2m0s" {
		t.Fatalf("create a pool with a health check: %+v, %v", created, err)
	}

	// The audit log has each change of a worker's health, not every
	// passing check, and the pool edits.
	audit := healthAudit(t, s, tn.ID)
	if got := audit["pool.create"]; len(got) != 2 || got[1] != "named checked, static, health check (python, every 2m0s, timeout 1m0s)" {
		t.Errorf("pool.create entries = %q", got)
	}
	// Only changes into or out of failed are audited; a changed script
	// clears the outcomes (in the pool.update), so the fix is "none →
	// healthy", not audited.
	wantAudit := map[string][]string{
		broken.workerID: {
			"named box-1: health check none → failed: exit code 1\nchecking docker\ndocker: daemon not running",
			"named box-1: health check none → failed: exit code 1\ndisk full",
		},
		warned.workerID: {
			"named box-2: health check none → failed: exit code 1\ndisk full",
		},
	}
	for id, want := range wantAudit {
		if got := audit[id]; !slices.Equal(got, want) {
			t.Errorf("worker.health entries of %s =\n%q\nwant\n%q", id, got, want)
		}
	}
	if got := audit["pool.update"]; len(got) != 3 || !strings.HasPrefix(got[0], "health check added (bash, every 1h0m0s, timeout 1m0s)") ||
		got[2] != "health check changed (sh, every 1h0m0s, timeout 30s; the machines' outcomes cleared)" {
		t.Errorf("pool.update entries = %q", got)
	}

	// Removing the check clears the machines' outcome with the pool's
	// update, not at their next heartbeat.
	setCheck(t, acme, api.HealthCheck{})
	for _, m := range []*machine{broken, warned} {
		if h := workerByID(t, acme, m.workerID).HealthCheck; h != nil {
			t.Errorf("worker %s right after the check was removed: health %+v, want none", m.workerID, h)
		}
	}
	p, err := acme.GetPool(ctx, "machines")
	if err != nil || p.MachinePolicy.HealthCheck != nil {
		t.Errorf("pool after removing the check: %+v, %v", p, err)
	}
}

// healthAudit returns tenant tenantID's audit details, oldest first: the
// worker.health ones by worker id (checking they are by its agent), the
// pool.create and pool.update ones under their action.
func healthAudit(t *testing.T, s *testServer, tenantID string) map[string][]string {
	t.Helper()
	status, body := get(t, s.URL()+"/api/v1/admin/audit?tenant="+tenantID, s.AdminToken())
	if status != http.StatusOK {
		t.Fatalf("audit: %d %s", status, body)
	}
	var l api.AuditList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range slices.Backward(l.Entries) {
		switch e.Action {
		case "worker.health":
			if e.Actor != "agent "+e.Target {
				t.Errorf("worker.health entry by %q, want its agent", e.Actor)
			}
			out[e.Target] = append(out[e.Target], e.Detail)
		case "pool.create", "pool.update":
			out[e.Action] = append(out[e.Action], e.Detail)
		}
	}
	return out
}

// TestHealthCheckBadInput: a health check that could not run, or one on
// a dynamic pool, is refused with 400 naming the field.
func TestHealthCheckBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme := s.tenant(t, "acme") // with dynamic pool "Linux"
	ctx := t.Context()
	if _, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	for _, tc := range []struct {
		name  string
		hc    api.HealthCheck
		field string
		text  string
	}{
		{"unknown syntax", api.HealthCheck{Syntax: "cobol", Script: "x"}, "health_check.syntax", `unknown syntax "cobol"`},
		{"no script on a pool without a check", api.HealthCheck{Interval: "5m"}, "health_check.script", "the pool has no health check yet"},
		{"blank script", api.HealthCheck{Script: "  \n"}, "health_check.script", "the script is empty"},
		{"NUL in the script", api.HealthCheck{Script: "echo \x00"}, "health_check.script", "NUL"},
		{"script too long", api.HealthCheck{Script: strings.Repeat("#", 64<<10+1)}, "health_check.script", "more than the limit of 65536"},
		{"interval not a duration", api.HealthCheck{Script: "true", Interval: "often"}, "health_check.interval", "not a positive Go duration"},
		{"interval too short", api.HealthCheck{Script: "true", Interval: "5s"}, "health_check.interval", "5s is not between 10s and 24h0m0s"},
		{"interval too long", api.HealthCheck{Script: "true", Interval: "25h"}, "health_check.interval", "is not between 10s and 24h0m0s"},
		{"timeout negative", api.HealthCheck{Script: "true", Timeout: "-1s"}, "health_check.timeout", "not a positive Go duration"},
		{"timeout too long", api.HealthCheck{Script: "true", Interval: "1h", Timeout: "11m"}, "health_check.timeout", "11m0s is not between 1s and 10m0s"},
		{"timeout longer than the interval", api.HealthCheck{Script: "true", Interval: "20s"}, "health_check.timeout", "1m0s is longer than the check's interval 20s"},
	} {
		hc := tc.hc
		_, err := acme.UpdatePool(ctx, "machines", api.UpdatePoolRequest{HealthCheck: &hc})
		wantField(t, "edit: "+tc.name, err, tc.field, tc.text)
		_, err = acme.CreatePool(ctx, api.CreatePoolRequest{Name: "more", Type: api.PoolTypeStatic, HealthCheck: &hc})
		wantField(t, "create: "+tc.name, err, tc.field, tc.text)
	}
	_, err := acme.UpdatePool(ctx, "Linux", api.UpdatePoolRequest{HealthCheck: &api.HealthCheck{Script: "true"}})
	wantField(t, "a health check on a dynamic pool", err, "health_check", "for static pools")
	_, err = acme.UpdatePool(ctx, "machines", api.UpdatePoolRequest{MachinePolicy: &api.MachinePolicy{HealthCheck: &api.HealthCheck{Script: "true"}}})
	wantField(t, "a health check inside machine_policy", err, "machine_policy.health_check", "health_check field")
	p, err := acme.GetPool(ctx, "machines")
	if err != nil || p.MachinePolicy.HealthCheck != nil {
		t.Errorf("pool after refused edits: %+v, %v; want no health check", p, err)
	}

	// An outcome that is none of the three is ignored (the heartbeat
	// still counts); so is one reported while the pool has no check.
	tok, err := acme.CreateRegistrationToken(ctx, "machines", "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := agent.RegisterStatic(ctx, agent.RegisterStaticParams{ServerURL: s.URL(), Token: tok.Token, Pool: "machines", Name: "box"})
	if err != nil {
		t.Fatal(err)
	}
	before := workerByID(t, acme, cred.WorkerID).LastHeartbeatAt
	status, body := post(t, s.URL()+"/agent/v1/heartbeat", cred.Credential, `{"health_check": {"status": "sick"}}`)
	after := workerByID(t, acme, cred.WorkerID)
	if status != http.StatusOK || after.HealthCheck != nil || after.LastHeartbeatAt == nil || (before != nil && !after.LastHeartbeatAt.After(*before)) {
		t.Errorf("heartbeat with status sick: %d %s, health %+v, heartbeat %v then %v; want it counted, the outcome not recorded",
			status, body, after.HealthCheck, before, after.LastHeartbeatAt)
	}
	status, body = post(t, s.URL()+"/agent/v1/heartbeat", cred.Credential, `{"health_check": {"status": "failed", "message": "x"}}`)
	if status != http.StatusOK || workerByID(t, acme, cred.WorkerID).HealthCheck != nil {
		t.Errorf("an outcome for a pool without a check: %d %s, worker health %+v; want it ignored", status, body, workerByID(t, acme, cred.WorkerID).HealthCheck)
	}
}

// wantField fails t unless err is a 400 naming field, with text in its
// message.
func wantField(t *testing.T, what string, err error, field, text string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Field != field || !strings.Contains(e.Message, text) {
		t.Errorf("%s: error = %v, want 400 naming %s with %q", what, err, field, text)
	}
}
