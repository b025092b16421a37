package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWorkersList(t *testing.T) {
	t.Parallel()
	workers := `{"workers":[{"id":"w-1","pool_id":"p1","image":"ubuntu-22.04","build":"2026.11.02","state":"destroyed",
	 "created_at":"2026-11-29T10:00:00Z","last_used_at":"2026-11-29T10:05:00Z","destroy_at":"2026-11-29T11:05:00Z",
	 "destroy_reason":"idle-timeout"}]}`
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/workers": jsonAnswer(200, workers)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "workers", "list", "--all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(f.called("GET /api/v1/workers?all=true")) != 1 {
		t.Error("--all did not ask for destroyed workers")
	}
	created := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC).Local().Format(time.DateTime)
	for _, want := range []string{"ID ", "DESTROY AT", "REASON", "w-1", "destroyed", created, "idle-timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout = %q, want it to contain %q", out, want)
		}
	}
	f = newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/workers": jsonAnswer(200, workers)})
	checkCommand(t, f, []string{"-o", "json", "workers", "list"}, "GET /api/v1/workers", "", `"destroy_reason": "idle-timeout"`)
}
