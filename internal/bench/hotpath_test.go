package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/sqlite"
)

// The benchmarks of the hot paths behind the table's figures, on SQLite
// and the sim provider, for comparing a change with benchstat:
//
//	go test -run '^$' -bench . -count 10 ./internal/bench > old.txt

// hotFleet is a fleet on a fresh SQLite store seeded with n idle workers.
type hotFleet struct {
	st     *sqlite.Store
	fl     *fleet.Fleet
	tenant *store.Tenant
}

func newHotFleet(b *testing.B, n int) *hotFleet {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "dynpool.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	clock := clockwork.NewFakeClockAt(time.Now().UTC())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	prov, err := sim.New(sim.Config{Installation: "bench", Clock: clock, Logger: quiet,
		RunAgent: func(context.Context, *provider.CreateParams) {}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { prov.Close() })
	fl, err := fleet.New(fleet.Config{Installation: "bench", ServerURL: "http://127.0.0.1:1", Clock: clock, Logger: quiet}, st, prov)
	if err != nil {
		b.Fatal(err)
	}
	if err := seed(ctx, st, prov, clock.Now(), n); err != nil {
		b.Fatal(err)
	}
	t, err := st.TenantGet(ctx, "t-0")
	if err != nil {
		b.Fatal(err)
	}
	return &hotFleet{st: st, fl: fl, tenant: t}
}

// acquireParams asks for a worker of the seeded tenant t-0, pool p-0.
func (h *hotFleet) acquireParams() *fleet.AcquireParams {
	return &fleet.AcquireParams{
		Tenant: h.tenant, PoolID: "p-0",
		Target: func(context.Context) (*fleet.Target, error) {
			return &fleet.Target{Image: "ubuntu-18.04", Build: "2026.11.02", OS: "linux"}, nil
		},
	}
}

// BenchmarkAcquireIdle leases an idle worker of a tenant (the warm step
// start's share of the store) and releases it outside the timer.
func BenchmarkAcquireIdle(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			h := newHotFleet(b, n)
			p := h.acquireParams()
			for b.Loop() {
				w, err := h.fl.Acquire(b.Context(), p)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := h.fl.Release(b.Context(), w); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRelease returns a busy worker to idle, as the end of every
// step does; the acquire runs outside the timer.
func BenchmarkRelease(b *testing.B) {
	h := newHotFleet(b, 100)
	p := h.acquireParams()
	for b.Loop() {
		b.StopTimer()
		w, err := h.fl.Acquire(b.Context(), p)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := h.fl.Release(b.Context(), w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReap is one reaper tick with nothing due: its cost should not
// follow the fleet's size.
func BenchmarkReap(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			h := newHotFleet(b, n)
			for b.Loop() {
				if err := h.fl.Reap(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReconcile is one reconciler tick: it lists every live worker
// and every machine, so its cost follows the fleet.
func BenchmarkReconcile(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			h := newHotFleet(b, n)
			for b.Loop() {
				if err := h.fl.Reconcile(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWorkerListLive lists the live workers, as the reconciler does.
func BenchmarkWorkerListLive(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			h := newHotFleet(b, n)
			for b.Loop() {
				ws, err := h.st.WorkerList(b.Context(), &store.WorkerListParams{States: fleet.LiveStates})
				if err != nil || len(ws) != n {
					b.Fatalf("WorkerList = %d workers, %v; want %d", len(ws), err, n)
				}
			}
		})
	}
}

// BenchmarkLogAppend appends one agent upload's worth of output (500
// lines of 100 bytes) to a task log; the log streaming figure is bound by
// it.
func BenchmarkLogAppend(b *testing.B) {
	h := newHotFleet(b, 1)
	now := time.Now().UTC()
	task := &store.Task{ID: "task-1", TenantID: "t-0", Name: "bench", State: api.StateRunning, CreatedAt: now,
		Steps: []*store.Step{{ID: "step-1", TaskID: "task-1", Name: "log", PoolID: "p-0", Syntax: api.SyntaxBash, Script: "true", State: api.StateRunning}}}
	if err := h.st.TaskCreate(b.Context(), task); err != nil {
		b.Fatal(err)
	}
	lines := make([]store.LogLine, 500)
	for i := range lines {
		lines[i] = store.LogLine{Time: now, Level: api.LevelInfo, Step: "log", Message: strings.Repeat("0", logLine-1)}
	}
	b.SetBytes(int64(len(lines) * logLine))
	for b.Loop() {
		if err := h.st.LogAppend(b.Context(), task.ID, lines); err != nil {
			b.Fatal(err)
		}
	}
}
