package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/store"
)

// fuzzTarget is a server built for fuzzing: its real handler over a
// SQLite store, never started (no runner, reaper or listener serving),
// with one tenant, its pool and one registered worker whose credentials
// the fuzz targets send.
type fuzzTarget struct {
	s          *Server
	h          http.Handler
	tenantID   string
	apiKey     string
	poolID     string
	credential string
	// jobID is a job running on the worker (runningJob).
	jobID string
}

// newFuzzTarget builds the fuzzTarget; everything it opened closes when
// the fuzz test ends.
func newFuzzTarget(f *testing.F) *fuzzTarget { return newTarget(f, Config{}) }

// newTarget builds a fuzzTarget with cfg (its listener, data directory,
// provider and logger set here).
func newTarget(f testing.TB, cfg Config) *fuzzTarget {
	f.Helper()
	cfg.Listen, cfg.DataDir, cfg.Provider = "127.0.0.1:0", f.TempDir(), sim.Name
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := New(f.Context(), cfg)
	if err != nil {
		f.Fatalf("new server: %v", err)
	}
	f.Cleanup(func() {
		s.listener.Close()
		s.store.Close()
		if c, ok := s.provider.(io.Closer); ok {
			c.Close()
		}
		if s.dataLock != nil {
			s.dataLock.Close()
		}
	})
	ft := &fuzzTarget{s: s, h: s.routes()}
	var tn api.Tenant
	ft.must(f, "POST", "/api/v1/admin/tenants", s.adminToken, `{"name":"fuzz"}`, http.StatusCreated, &tn)
	ft.tenantID, ft.apiKey = tn.ID, tn.APIKey
	var pool api.Pool
	ft.must(f, "POST", "/api/v1/pools", ft.apiKey, `{"name":"Linux","image":"ubuntu-default"}`, http.StatusCreated, &pool)
	ft.poolID = pool.ID
	ft.credential = id.Secret("dpw")
	now := time.Now()
	w := &store.Worker{ID: id.New("w"), TenantID: tn.ID, PoolID: pool.ID, Image: "ubuntu-22.04", Build: "fuzz",
		Provider: sim.Name, State: api.WorkerIdle, CredentialHash: id.Hash(ft.credential), CreatedAt: now,
		RegisteredAt: &now, LeasedAt: &now, LastHeartbeatAt: &now}
	if err := s.store.WorkerCreate(f.Context(), w, store.WorkerLimits{}); err != nil {
		f.Fatalf("create worker: %v", err)
	}
	ft.jobID = ft.runningJob(f, w)
	return ft
}

// runningJob submits a task with a sensitive variable and makes its one
// step a job running on worker w, as the runner would have, so that log
// uploads reach the service-message parser and the masking.
func (ft *fuzzTarget) runningJob(f testing.TB, w *store.Worker) string {
	f.Helper()
	var task api.Task
	ft.must(f, "POST", "/api/v1/tasks", ft.apiKey, `{"name":"fuzz","variables":[{"name":"SECRET","value":"hunter2","sensitive":true}],
		"steps":[{"name":"s","script":"echo hi"}]}`, http.StatusCreated, &task)
	step, err := ft.s.store.StepGet(f.Context(), task.Steps[0].ID)
	if err != nil {
		f.Fatalf("get step: %v", err)
	}
	now := time.Now()
	step.State, step.WorkerID, step.StartedAt = api.StateRunning, w.ID, &now
	if err := ft.s.store.StepUpdate(f.Context(), step); err != nil {
		f.Fatalf("make the step run: %v", err)
	}
	return step.ID
}

// serve sends one request through the handler and returns its answer.
func (ft *fuzzTarget) serve(method, path, token string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	ft.h.ServeHTTP(rec, r)
	return rec
}

func (ft *fuzzTarget) must(f testing.TB, method, path, token, body string, want int, out any) {
	f.Helper()
	rec := ft.serve(method, path, token, []byte(body))
	if rec.Code != want {
		f.Fatalf("%s %s = %d %s, want %d", method, path, rec.Code, rec.Body, want)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		f.Fatalf("%s %s: decode %q: %v", method, path, rec.Body, err)
	}
}

// checkAnswer fails t unless rec is below 500 and, from 400 on, carries
// the error shape {"error":{"code","message"}} of the design.
func checkAnswer(t *testing.T, method, path string, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %s with body %q answered %d: %s", method, path, body, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	var e api.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("%s %s with body %q answered %d without the error shape: %q", method, path, body, rec.Code, rec.Body)
	}
}

// fuzzEndpoint is one request the fuzzers send a body to; who says which
// credential goes with it.
type fuzzEndpoint struct {
	method, path string
	who          string // "admin", "tenant" or "agent"
	seeds        []string
}

// apiEndpoints are the tenant and admin API routes that decode a JSON
// body; {tenant} and {pool} stand for the fuzz tenant's and pool's ids.
var apiEndpoints = []fuzzEndpoint{
	{"POST", "/api/v1/admin/tenants", "admin", []string{`{"name":"acme"}`, `{"name":""}`, `{"name":"\u0000"}`}},
	{"PATCH", "/api/v1/admin/tenants/{tenant}", "admin", []string{`{"idle_timeout":"90m","max_lifetime":"72h","max_workers":3}`, `{"idle_timeout":"-1s"}`, `{"max_workers":-1}`, `{"max_lifetime":"9999999h"}`}},
	{"POST", "/api/v1/admin/images/ubuntu-22.04/builds", "admin", []string{`{"version":"2030.01.01","released":"2030-01-01"}`, `{}`}},
	{"POST", "/api/v1/pools", "tenant", []string{`{"name":"Win","image":"windows-2022"}`, `{"name":"x","image":"nope"}`, `{"name":"x","image":"ubuntu-default","is_default":true}`}},
	{"PATCH", "/api/v1/pools/{pool}", "tenant", []string{`{"image":"ubuntu-22.04"}`, `{"name":""}`, `{"is_default":false}`}},
	{"POST", "/api/v1/tasks", "tenant", []string{
		`{"name":"t","steps":[{"name":"s","syntax":"bash","script":"echo hi"}]}`,
		`{"name":"t","steps":[{"name":"s","pool":"Linux","syntax":"pwsh","script":"x","container":{"image":"alpine"}}]}`,
		`{"name":"t","steps":[]}`, `{"steps":[{"syntax":"cobol"}]}`, `[]`, `null`, `{"name":1}`, `{} {}`,
	}},
}

// agentEndpoints are the agent protocol routes, called with the fuzz
// worker's credential (or, for register, the body's token). {job} is the
// job running on the worker; completion goes to an unknown job, so that
// the running one stays running.
var agentEndpoints = []fuzzEndpoint{
	{"POST", "/agent/v1/register", "", []string{``, `{}`}},
	{"POST", "/agent/v1/heartbeat", "agent", []string{``, `{}`}},
	{"POST", "/agent/v1/jobs/{job}/log", "agent", []string{`{"lines":[{"time":"2026-01-01T00:00:00Z","stream":"stdout","message":"hi"}]}`, `{"lines":null}`, `{"lines":[{"time":"x"}]}`,
		`{"lines":[{"stream":"stdout","message":"##dynpool[setVariable name='OUT' value='hunter2' sensitive='true']"},{"stream":"stderr","message":"hunter2 hunter"}]}`,
		`{"lines":[{"stream":"stdout","message":"##dynpool[setVariable name='1bad' value='x']"}]}`}},
	{"POST", "/agent/v1/jobs/j-fuzz/complete", "agent", []string{`{"exit_code":0}`, `{"exit_code":1e99}`, `{"exit_code":-1,"error":"x"}`}},
	{"POST", "/agent/v1/jobs/{job}/container", "agent", []string{`{"dir":"/work/job-1","command":["bash","/work/job-1/script.sh"],"env":{"A":"1"}}`, `{}`}},
}

// fuzzEndpoints sends body to endpoint number pick (modulo the list),
// with the matching credential, and checks the answer.
func fuzzEndpoints(f *testing.F, list []fuzzEndpoint) {
	ft := newFuzzTarget(f)
	for i, e := range list {
		for _, s := range e.seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		e := list[int(pick)%len(list)]
		path := strings.NewReplacer("{tenant}", ft.tenantID, "{pool}", ft.poolID, "{job}", ft.jobID).Replace(e.path)
		token := map[string]string{"admin": ft.s.adminToken, "tenant": ft.apiKey, "agent": ft.credential}[e.who]
		checkAnswer(t, e.method, path, body, ft.serve(e.method, path, token, body))
	})
}

// FuzzAPIBody sends arbitrary bodies to every tenant and admin route that
// decodes JSON, through the real handler and a SQLite store, and holds
// them to the design's invariant 5: a 4xx with the error shape, never a
// 5xx or a panic. Seeds: the endpoint tables above and
// testdata/fuzz/FuzzAPIBody.
func FuzzAPIBody(f *testing.F) { fuzzEndpoints(f, apiEndpoints) }

// FuzzAgentBody does the same for the agent protocol: registration with
// arbitrary tokens and the authenticated worker's heartbeat, log upload
// and container calls on its running job (output with service messages
// and a sensitive value to mask), and completion of an unknown job, with
// arbitrary bodies.
func FuzzAgentBody(f *testing.F) { fuzzEndpoints(f, agentEndpoints) }
