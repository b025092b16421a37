package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/server"
)

// lifecycleServer runs a real server on testdata/lifecycle.yaml (copied,
// so tests can rewrite it and reload it) with a clock fixed at 2026-11-29
// 09:00 UTC. (Tests move the clock by hours at most: a fake clock fires a
// ticker once per period it is advanced over.)
func lifecycleServer(t *testing.T) (*testServer, *clockwork.FakeClock, string) {
	t.Helper()
	src, err := os.ReadFile("testdata/lifecycle.yaml")
	if err != nil {
		t.Fatalf("read catalog: %v", err)
	}
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatalf("write catalog: %v", err)
	}
	cat, err := catalog.Load(path)
	if err != nil {
		t.Fatalf("load catalog: %v", err)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	s := startServer(t, func(c *server.Config) { c.Clock, c.Catalog, c.CatalogPath = clock, cat, path })
	return s, clock, path
}

func (s *testServer) pool(t *testing.T, c *client.Client, name, image string) api.Pool {
	t.Helper()
	p, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: name, Image: image})
	if err != nil {
		t.Fatalf("create pool %s on %s: %v", name, image, err)
	}
	return *p
}

func TestImageLifecycleEndToEnd(t *testing.T) {
	t.Parallel()
	s, _, path := lifecycleServer(t)
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := clientFor(s, tn.APIKey)
	// The pool on Ubuntu Server 16.04 is made while its end of life lies
	// ahead; then the operator's catalog moves it into the past.
	src, _ := os.ReadFile(path)
	later := strings.Replace(string(src), "end_of_life_date: 2026-06-01", "end_of_life_date: 2027-06-01", 1)
	if err := os.WriteFile(path, []byte(later), 0o600); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	s.pool(t, c, "Legacy", "ubuntu-16.04")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	s.pool(t, c, "Pinned", "ubuntu-18.04")
	s.pool(t, c, "Default", "ubuntu-default")
	s.pool(t, c, "Preview", "ubuntu-24.04")

	pools, err := c.ListPools(t.Context())
	if err != nil {
		t.Fatalf("list pools: %v", err)
	}
	byName := map[string]api.Pool{}
	for _, p := range pools {
		byName[p.Name] = p
	}
	pinned := byName["Pinned"]
	if !pinned.Deprecated || len(pinned.Warnings) != 1 ||
		!strings.Contains(pinned.Warnings[0], "2027-01-15") || !strings.Contains(pinned.Warnings[0], "edit the pool to use Ubuntu Server 22.04") {
		t.Errorf("pinned pool = %+v, want deprecated with a warning naming the end of life and the fix", pinned)
	}
	if legacy := byName["Legacy"]; legacy.ImageStatus != api.ImageStatusDecommissioned {
		t.Errorf("pool on the decommissioned image = %+v, want its image status decommissioned", legacy)
	}
	if def := byName["Default"]; def.Deprecated || len(def.Warnings) != 0 || def.ResolvedImage != "ubuntu-18.04" || def.ImageStatus != api.ImageStatusActive {
		t.Errorf("alias pool = %+v, want ubuntu-18.04 without deprecation or warning", def)
	}
	if pre := byName["Preview"]; len(pre.Warnings) != 1 || !strings.Contains(pre.Warnings[0], "may contain bugs") {
		t.Errorf("preview pool = %+v, want the preview warning", pre)
	}

	task, lines := runTask(t, c, api.StepRequest{Pool: "Pinned", Script: "echo deployed"})
	if task.State != api.StateSuccess || !logHas(lines, api.LevelWarning, "deprecated and will be decommissioned on 2027-01-15") {
		t.Errorf("task on the deprecated pool = %s, want success with the warning; log:\n%s", task.State, dump(lines))
	}
	task, lines = runTask(t, c, api.StepRequest{Pool: "Default", Script: "echo deployed"})
	if task.State != api.StateSuccess || logHas(lines, api.LevelWarning, "deprecated") {
		t.Errorf("task on the alias pool = %s, want success without a deprecation warning; log:\n%s", task.State, dump(lines))
	}

	before, _ := s.admin.AdminListWorkers(t.Context())
	task, lines = runTask(t, c, api.StepRequest{Pool: "Legacy", Script: "echo must not run"})
	st := task.Steps[0]
	for _, want := range []string{`pool "Legacy"`, "Ubuntu Server 16.04", "2026-06-01", "edit the pool"} {
		if task.State != api.StateFailed || !strings.Contains(st.Error, want) {
			t.Errorf("step on the decommissioned pool: %s %q, want failed naming %q", task.State, st.Error, want)
		}
	}
	after, _ := s.admin.AdminListWorkers(t.Context())
	if len(after) != len(before) || st.WorkerID != "" || logHas(lines, "", "creating worker") {
		t.Errorf("a worker was made for a step on a decommissioned image (%d workers before, %d after)", len(before), len(after))
	}
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Again", Image: "ubuntu-16.04"}); !isStatus(err, 400) {
		t.Errorf("creating a pool on a decommissioned image: %v, want 400", err)
	}

	status, body := get(t, s.URL()+"/api/v1/admin/deprecations", s.AdminToken())
	var deps api.DeprecationList
	if err := json.Unmarshal(body, &deps); status != 200 || err != nil || len(deps.Deprecations) != 2 {
		t.Fatalf("deprecations = %d %s, want the legacy and the pinned pool", status, body)
	}
	byPool := map[string]api.Deprecation{}
	for _, d := range deps.Deprecations {
		byPool[d.PoolName] = d
	}
	if d := byPool["Legacy"]; d.Status != api.ImageStatusDecommissioned || d.DaysLeft != 0 {
		t.Errorf("deprecation = %+v, want Legacy, decommissioned, no days left", d)
	}
	if d := byPool["Pinned"]; d.TenantName != "acme" || d.Status != api.ImageStatusDeprecated || d.EndOfLifeDate != "2027-01-15" || d.DaysLeft != 47 {
		t.Errorf("deprecation = %+v, want Pinned of acme, 47 days (46 and a part) before 2027-01-15", d)
	}
}

func TestToolRequirementsAndPaths(t *testing.T) {
	t.Parallel()
	s, _, _ := lifecycleServer(t)
	tn, _ := s.admin.CreateTenant(t.Context(), "acme")
	c := clientFor(s, tn.APIKey)
	s.pool(t, c, "Pinned", "ubuntu-18.04")
	s.pool(t, c, "Kube", "ubuntu-22.04")

	task, _ := runTask(t, c, api.StepRequest{Pool: "Pinned", Requires: []string{"kubectl=1.22.6"}, Script: "echo must not run"})
	if st := task.Steps[0]; task.State != api.StateFailed || !strings.Contains(st.Error, "kubectl=1.22.6") || !strings.Contains(st.Error, "Ubuntu Server 22.04") || st.WorkerID != "" {
		t.Errorf("step lacking a tool = %s %q, want failed before any worker, naming the tool and the image that has it", task.State, st.Error)
	}
	task, lines := runTask(t, c, api.StepRequest{Pool: "Kube", Requires: []string{"kubectl>=1.22", "docker"}, Script: `echo "kubectl at $DYNPOOL_TOOL_KUBECTL_1_22_6_PATH"`})
	if task.State != api.StateSuccess || !logHas(lines, api.LevelInfo, "kubectl at /opt/kubectl/1.22.6/kubectl") {
		t.Errorf("step with met requirements = %s, want success with the tool path; log:\n%s", task.State, dump(lines))
	}
	if _, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{{Script: "true", Requires: []string{"kubectl=="}}}}); !isStatus(err, 400) {
		t.Errorf("malformed requirement: %v, want 400", err)
	}
	status, body := get(t, s.URL()+"/api/v1/images/ubuntu-22.04", tn.APIKey)
	if status != 200 || !strings.Contains(string(body), "1.22.6") {
		t.Errorf("GET image = %d %s, want its tools", status, body)
	}
}

func TestNewBuildAndPoolEditRecycleIdleWorkers(t *testing.T) {
	t.Parallel()
	s, _, path := lifecycleServer(t)
	tn, _ := s.admin.CreateTenant(t.Context(), "acme")
	c := clientFor(s, tn.APIKey)
	kube := s.pool(t, c, "Kube", "ubuntu-22.04")
	pinned := s.pool(t, c, "Pinned", "ubuntu-18.04")

	first, _ := runTask(t, c, api.StepRequest{Pool: "Kube", Script: "true"})
	second, _ := runTask(t, c, api.StepRequest{Pool: "Pinned", Script: "true"})
	kubeWorker, pinnedWorker := first.Steps[0].WorkerID, second.Steps[0].WorkerID

	// A broken catalog file is refused and changes nothing.
	if err := os.WriteFile(path, []byte("images:\n  - id: x\n    nmae: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, body := post(t, s.URL()+"/api/v1/admin/catalog/reload", s.AdminToken(), "")
	if status != 400 || !strings.Contains(string(body), "line 3") {
		t.Errorf("reload of a broken file = %d %s, want 400 naming the line", status, body)
	}
	if w := workerByID(t, c, kubeWorker); w.State != api.WorkerIdle {
		t.Fatalf("after a refused reload the worker is %s, want idle", w.State)
	}

	// A new build through the API retires the idle worker of the old one.
	status, body = post(t, s.URL()+"/api/v1/admin/images/ubuntu-22.04/builds", s.AdminToken(),
		`{"version":"2026.11.28","released":"2026-11-28","artifacts":{"process":""}}`)
	if status != 201 {
		t.Fatalf("add build = %d %s", status, body)
	}
	if w := workerByID(t, c, kubeWorker); w.State != api.WorkerDestroyed || w.DestroyReason != api.DestroyImageRebuilt {
		t.Errorf("idle worker of the old build = %s (%s), want destroyed (image-rebuilt)", w.State, w.DestroyReason)
	}
	next, _ := runTask(t, c, api.StepRequest{Pool: kube.ID, Script: "true"})
	if w := workerByID(t, c, next.Steps[0].WorkerID); w.Build != "2026.11.28" {
		t.Errorf("new worker has build %s, want the new build", w.Build)
	}

	// Editing a pool's image retires its idle workers of the old image.
	image := "ubuntu-22.04"
	if _, err := c.UpdatePool(t.Context(), pinned.ID, api.UpdatePoolRequest{Image: &image}); err != nil {
		t.Fatalf("edit pool: %v", err)
	}
	if w := workerByID(t, c, pinnedWorker); w.State != api.WorkerDestroyed || w.DestroyReason != api.DestroyImageChanged {
		t.Errorf("idle worker of the pool's old image = %s (%s), want destroyed (image-changed)", w.State, w.DestroyReason)
	}
}

func TestBrownoutFailsStepsWithTheEndOfLife(t *testing.T) {
	t.Parallel()
	s, clock, path := lifecycleServer(t)
	tn, _ := s.admin.CreateTenant(t.Context(), "acme")
	c := clientFor(s, tn.APIKey)
	s.pool(t, c, "Pinned", "ubuntu-18.04")
	src, _ := os.ReadFile(path)
	withBrownout := strings.Replace(string(src), "    end_of_life_date: 2027-01-15\n",
		"    end_of_life_date: 2027-01-15\n    brownouts: [{from: 2026-11-29T08:00:00Z, to: 2026-11-29T12:00:00Z}]\n", 1)
	if err := os.WriteFile(path, []byte(withBrownout), 0o600); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	task, _ := runTask(t, c, api.StepRequest{Pool: "Pinned", Script: "echo must not run"})
	if st := task.Steps[0]; task.State != api.StateFailed || !strings.Contains(st.Error, "brownout") || !strings.Contains(st.Error, "2027-01-15") {
		t.Errorf("step during a brownout = %s %q, want failed pointing at the end of life", task.State, st.Error)
	}
	clock.Advance(4 * time.Hour)
	if task, _ := runTask(t, c, api.StepRequest{Pool: "Pinned", Script: "true"}); task.State != api.StateSuccess {
		t.Errorf("step after the brownout = %s (%s), want success", task.State, task.Steps[0].Error)
	}
}

func workerByID(t *testing.T, c *client.Client, id string) api.Worker {
	t.Helper()
	ws, err := c.ListWorkers(t.Context(), true)
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	for _, w := range ws {
		if w.ID == id {
			return w
		}
	}
	t.Fatalf("no worker %s", id)
	return api.Worker{}
}

func get(t *testing.T, url, token string) (int, []byte) {
	return send(t, http.MethodGet, url, token, "")
}

func post(t *testing.T, url, token, body string) (int, []byte) {
	return send(t, http.MethodPost, url, token, body)
}

func reload(t *testing.T, s *testServer) {
	t.Helper()
	if status, body := post(t, s.URL()+"/api/v1/admin/catalog/reload", s.AdminToken(), ""); status != 200 {
		t.Fatalf("reload = %d %s", status, body)
	}
}

func TestDecommissioningAnImageRecyclesItsIdleWorkers(t *testing.T) {
	t.Parallel()
	s, _, path := lifecycleServer(t)
	tn, _ := s.admin.CreateTenant(t.Context(), "acme")
	c := clientFor(s, tn.APIKey)
	s.pool(t, c, "Pinned", "ubuntu-18.04")
	task, _ := runTask(t, c, api.StepRequest{Pool: "Pinned", Script: "true"})
	src, _ := os.ReadFile(path)
	ended := strings.Replace(string(src), "end_of_life_date: 2027-01-15", "end_of_life_date: 2026-11-29", 1)
	if err := os.WriteFile(path, []byte(ended), 0o600); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	if w := workerByID(t, c, task.Steps[0].WorkerID); w.State != api.WorkerDestroyed || w.DestroyReason != api.DestroyImageDecommissioned {
		t.Errorf("idle worker of a decommissioned image = %s (%s), want destroyed (image-decommissioned)", w.State, w.DestroyReason)
	}
}

func TestPoolOnADecommissionedImageCanStillBeRenamed(t *testing.T) {
	t.Parallel()
	s, _, path := lifecycleServer(t)
	tn, _ := s.admin.CreateTenant(t.Context(), "acme")
	c := clientFor(s, tn.APIKey)
	src, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), "end_of_life_date: 2026-06-01", "end_of_life_date: 2027-06-01", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	legacy := s.pool(t, c, "Legacy", "ubuntu-16.04")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	name := "Legacy (to move)"
	if _, err := c.UpdatePool(t.Context(), legacy.ID, api.UpdatePoolRequest{Name: &name}); err != nil {
		t.Fatalf("rename a pool on a decommissioned image: %v, want it allowed", err)
	}
	image := "ubuntu-16.04"
	other := s.pool(t, c, "Other", "ubuntu-22.04")
	if _, err := c.UpdatePool(t.Context(), other.ID, api.UpdatePoolRequest{Image: &image}); !isStatus(err, 400) {
		t.Fatalf("moving a pool onto a decommissioned image: %v, want 400", err)
	}
}
