package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/agent"
)

// TestMain lets the test binary be a process worker's agent: the process
// provider starts os.Args[0] with the agent's environment.
func TestMain(m *testing.M) {
	if os.Getenv(agent.EnvToken) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := agent.RunFromEnv(ctx)
		stop()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuickRunHasEveryRow runs the whole bench at --quick sizes and checks
// the table, not its figures: every row is there, in order, and each has
// a figure or a note saying why not. Scenarios that cannot run here (no
// engine, no PostgreSQL) must say so rather than fail.
func TestQuickRunHasEveryRow(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: runs servers and workers for several seconds")
	}
	r, err := Run(t.Context(), Options{
		Quick: true, Concurrency: 16, AgentCommand: []string{os.Args[0]},
		PostgresURL: os.Getenv("DYNPOOL_TEST_POSTGRES_URL"),
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var keys []string
	for _, row := range r.Rows {
		keys = append(keys, row.Key)
		if row.Value == "" && row.Note == "" {
			t.Errorf("row %s has neither a value nor a note", row.Key)
		}
		if strings.HasPrefix(row.Note, "failed") {
			t.Errorf("row %s failed: %s", row.Key, row.Note)
		}
	}
	if !slices.Equal(keys, Keys()) {
		t.Errorf("rows %q, want %q", keys, Keys())
	}
	// The rows that need nothing but this machine have figures.
	for _, row := range r.Rows {
		switch {
		case row.Key == keyColdDocker, strings.HasPrefix(row.Key, "throughput/postgres"):
		case row.Value == "":
			t.Errorf("row %s has no value: %s", row.Key, row.Note)
		}
	}

	var table, js bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Rows {
		if !strings.Contains(table.String(), row.Name) {
			t.Errorf("the table lacks row %q:\n%s", row.Name, table.String())
		}
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Rows) != len(r.Rows) {
		t.Errorf("JSON does not read back to %d rows: %v\n%s", len(r.Rows), err, js.String())
	}
}

func TestOnlySelectsRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		only []string
		want []string
	}{
		{[]string{"standby-hit"}, []string{keyStandby}},
		{[]string{"tick/reap"}, []string{"tick/reap/1000", "tick/reap/100000"}},
		{[]string{"throughput/sqlite/100"}, []string{"throughput/sqlite/100"}},
		{[]string{"memory"}, []string{keyMemory}},
		{[]string{"cold-start"}, []string{keyColdProcess, keyColdDocker}},
	}
	for _, tt := range tests {
		b := &bencher{opt: Options{Only: tt.only}}
		got := slices.DeleteFunc(Keys(), func(k string) bool { return !b.selected(k) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("--only %q keeps %q, want %q", tt.only, got, tt.want)
		}
	}
}

func TestOnlyMatchingNothingIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := Run(t.Context(), Options{Only: []string{"no-such-row"}}); err == nil || !strings.Contains(err.Error(), "matches no row") {
		t.Errorf("Run with --only no-such-row = %v, want an error naming the rows", err)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	var s samples
	for i := 1; i <= 100; i++ {
		s = append(s, samplesMs(i)...)
	}
	if got := s.quantile(0.5); got != ms(50) {
		t.Errorf("p50 = %v, want 50ms", got)
	}
	if got := s.quantile(0.99); got != ms(99) {
		t.Errorf("p99 = %v, want 99ms", got)
	}
	if got := (samples{}).quantile(0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func samplesMs(n int) samples { return samples{ms(n)} }
