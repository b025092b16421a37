package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/standby"
)

// standbyWorkers returns the live standby workers (of no tenant yet).
func (s *testServer) standbyWorkers(t *testing.T, state string) []api.Worker {
	t.Helper()
	all, err := s.admin.AdminListWorkers(t.Context())
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	var out []api.Worker
	for _, w := range all {
		if w.TenantID == "" && w.State == state {
			out = append(out, w)
		}
	}
	return out
}

// With a standby count of 1, the first step of a brand-new tenant starts
// on the standby worker without waiting for a creation; a replacement is
// made for the next tenant.
func TestFirstStepOfANewTenantTakesTheStandbyWorker(t *testing.T) {
	t.Parallel()
	cfg, err := standby.Parse([]byte("standby:\n  - {image: ubuntu-default, count: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *server.Config) { c.Standby = cfg })
	var ready []api.Worker
	eventually.Holds(t, "a standby worker to be idle", 30*time.Second, func() bool {
		ready = s.standbyWorkers(t, api.WorkerIdle)
		return len(ready) == 1
	})
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c, api.StepRequest{Script: "echo on standby"})
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	if got := task.Steps[0].WorkerID; got != ready[0].ID {
		t.Errorf("the step ran on %s, want the standby worker %s", got, ready[0].ID)
	}
	if !logHas(lines, api.LevelInfo, "leasing standby worker "+ready[0].ID+", which now serves this tenant only") || logHas(lines, "", "creating worker") {
		t.Errorf("log does not show a standby lease without a creation:\n%s", dump(lines))
	}
	mine, err := c.ListWorkers(t.Context(), false)
	if err != nil || len(mine) != 1 || mine[0].ID != ready[0].ID {
		t.Errorf("acme's workers = %+v, %v; want the once-standby worker", mine, err)
	}
	eventually.Holds(t, "a replacement standby worker to be idle", 30*time.Second, func() bool {
		again := s.standbyWorkers(t, api.WorkerIdle)
		return len(again) == 1 && again[0].ID != ready[0].ID
	})
	mf := scrape(t, s.URL())
	for result, want := range map[string]float64{"hit": 1, "miss": 0} {
		if v, ok := value(mf, "dynpool_standby_leases_total", map[string]string{"result": result}); !ok || v != want {
			t.Errorf("dynpool_standby_leases_total{result=%q} = %v (present %v), want %v", result, v, ok, want)
		}
	}
}

func TestStandbyForAnImageNotInTheCatalogIsRefusedAtStart(t *testing.T) {
	t.Parallel()
	cfg, err := standby.Parse([]byte("standby:\n  - {image: plan9, count: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Standby: cfg})
	if err == nil || err.Error() != `standby: standby[0]: "plan9" is no image or alias of the catalog` {
		t.Errorf("New = %v, want the entry named", err)
	}
}

func TestReloadStandbyChangesTheCounts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "standby.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("standby:\n  - {image: ubuntu-default, count: 1}\n")
	cfg, err := standby.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *server.Config) { c.Standby, c.StandbyPath = cfg, path })
	eventually.Holds(t, "a standby worker to be idle", 30*time.Second, func() bool {
		return len(s.standbyWorkers(t, api.WorkerIdle)) == 1
	})
	write("standby:\n  - {image: plan9, count: 1}\n")
	if err := s.ReloadStandby(t.Context()); err == nil || !strings.Contains(err.Error(), `"plan9" is no image or alias of the catalog`) {
		t.Fatalf("reload of a file naming no catalog image = %v, want it refused", err)
	}
	write("standby:\n  - {image: ubuntu-default, count: 0}\n")
	if err := s.ReloadStandby(t.Context()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	eventually.Holds(t, "the standby worker to go", 30*time.Second, func() bool {
		return len(s.standbyWorkers(t, api.WorkerIdle)) == 0 && len(s.standbyWorkers(t, api.WorkerProvisioning)) == 0
	})
	plain := startServer(t, nil)
	if err := plain.ReloadStandby(t.Context()); err == nil || !strings.Contains(err.Error(), "started without --standby") {
		t.Errorf("reload on a server without standby = %v", err)
	}
}
