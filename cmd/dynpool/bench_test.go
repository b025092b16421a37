package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/bench"
)

func TestBenchPrintsTheSelectedRowsAsJSON(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := execute(t.Context(), []string{"bench", "--quick", "--only", "standby-hit,tick/reap", "-o", "json", "--log-level", "warn"},
		&out, &errOut, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	var r bench.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, out.String())
	}
	var keys []string
	for _, row := range r.Rows {
		keys = append(keys, row.Key)
	}
	if want := "standby-hit tick/reap/1000 tick/reap/100000"; strings.Join(keys, " ") != want {
		t.Errorf("rows %q, want %s", keys, want)
	}
	if !r.Quick || r.Rows[1].Value == "" {
		t.Errorf("report = %+v, want a quick run with a reap figure", r)
	}
}

func TestBenchRefusesAnUnknownRow(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := execute(t.Context(), []string{"bench", "--only", "nope"}, &out, &errOut, func(string) string { return "" })
	if code != 1 || !strings.Contains(errOut.String(), "matches no row") {
		t.Errorf("exit %d, stderr %q; want 1 and an error naming the rows", code, errOut.String())
	}
}
