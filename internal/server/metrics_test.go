package server_test

import (
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/eventually"
)

func TestMetricsCountWorkersAcquisitionsCreationsAndDestroys(t *testing.T) {
	t.Parallel()
	// Two servers in one process: each has its own registry, so neither
	// panics on a duplicate registration.
	s, other := startServer(t, nil), startServer(t, nil)
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c, api.StepRequest{Script: "echo hi"})
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s), want success; log:\n%s", task.State, task.Error, dump(lines))
	}
	tenants, err := s.admin.ListTenants(t.Context())
	if err != nil {
		t.Fatalf("list tenants: %v", err)
	}

	mf := scrape(t, s.URL())
	idle := map[string]string{"state": api.WorkerIdle, "provider": "process", "image": "ubuntu-18.04"}
	if v, ok := value(mf, "dynpool_workers", idle); !ok || v != 1 {
		t.Errorf("dynpool_workers%v = %v (present %v), want 1", idle, v, ok)
	}
	for _, name := range []string{"dynpool_worker_acquisition_seconds", "dynpool_worker_creation_seconds"} {
		if n := histogramCount(mf, name); n < 1 {
			t.Errorf("%s has %d observations, want at least 1", name, n)
		}
	}
	waiting := map[string]string{"tenant": tenants[0].ID}
	if v, ok := value(mf, "dynpool_steps_waiting", waiting); !ok || v != 0 {
		t.Errorf("dynpool_steps_waiting%v = %v (present %v), want 0 after the task", waiting, v, ok)
	}
	failures := map[string]string{"provider": "process"}
	if v, ok := value(mf, "dynpool_worker_creation_failures_total", failures); !ok || v != 0 {
		t.Errorf("dynpool_worker_creation_failures_total%v = %v (present %v), want 0", failures, v, ok)
	}
	if _, ok := mf["go_goroutines"]; !ok {
		t.Error("no go_goroutines: the Go collector is not registered")
	}
	if _, ok := mf["process_start_time_seconds"]; !ok {
		t.Error("no process_start_time_seconds: the process collector is not registered")
	}

	// Shortening the tenant's idle timeout makes the reaper destroy the
	// idle worker at its next tick.
	second := "1s"
	if _, err := s.admin.UpdateTenant(t.Context(), tenants[0].ID, api.UpdateTenantRequest{IdleTimeout: &second}); err != nil {
		t.Fatalf("shorten idle timeout: %v", err)
	}
	destroyed := map[string]string{"reason": api.DestroyIdleTimeout}
	eventually.Holds(t, "dynpool_worker_destroys_total{reason=idle-timeout} to be 1", 30*time.Second, func() bool {
		v, _ := value(scrape(t, s.URL()), "dynpool_worker_destroys_total", destroyed)
		return v == 1
	})
	mf = scrape(t, s.URL())
	if v, ok := value(mf, "dynpool_workers", idle); !ok || v != 0 {
		t.Errorf("dynpool_workers%v after the destroy = %v (present %v), want 0", idle, v, ok)
	}

	mf = scrape(t, other.URL())
	if _, ok := mf["go_goroutines"]; !ok {
		t.Error("the other server's metrics have no go_goroutines")
	}
	if n := histogramCount(mf, "dynpool_worker_creation_seconds"); n != 0 {
		t.Errorf("the other server counted %d creations, want 0: its registry is its own", n)
	}
}

// scrape gets /metrics from the server at url and parses the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/metrics", nil)
	if err != nil {
		t.Fatalf("metrics request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("get /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// value returns the value of the gauge or counter series of family name
// whose labels include want.
func value(mf map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, m := range series(mf, name, want) {
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// histogramCount returns the observation count of histogram name (0 when
// it is absent).
func histogramCount(mf map[string]*dto.MetricFamily, name string) uint64 {
	var n uint64
	for _, m := range series(mf, name, nil) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

func series(mf map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	f, ok := mf[name]
	if !ok {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.GetMetric() {
		have := make(map[string]string)
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}
