package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/sqlite"
)

// tickTenants is how many tenants the seeded workers are spread over.
const tickTenants = 100

// ticks gives the tick rows: one reaper tick (Fleet.Reap, nothing due)
// and one reconciler tick (Fleet.Reconcile: the store's live workers
// against the provider's list) at each fleet size, on SQLite seeded
// directly with idle workers and sim machines without agents.
func (b *bencher) ticks(ctx context.Context) []Row {
	var reaps, reconciles []Row
	for i, n := range b.size.tickWorkers {
		reap := Row{Key: fmt.Sprintf("tick/reap/%d", tickSizes[i]), Name: fmt.Sprintf("reaper tick, %s (sim, SQLite)", plural(n, "live worker"))}
		rec := Row{Key: fmt.Sprintf("tick/reconcile/%d", tickSizes[i]), Name: fmt.Sprintf("reconciler tick, %s (sim, SQLite)", plural(n, "live worker"))}
		if b.selected(reap.Key) || b.selected(rec.Key) {
			b.logger.InfoContext(ctx, "measuring ticks", "workers", n)
			if err := b.tickAt(ctx, n, &reap, &rec); err != nil {
				reap.Note, rec.Note = "failed: "+err.Error(), "failed: "+err.Error()
			}
			if n != tickSizes[i] {
				reap.Note = joinNote(fmt.Sprintf("quick: %d workers", n), reap.Note)
				rec.Note = joinNote(fmt.Sprintf("quick: %d workers", n), rec.Note)
			}
		}
		reaps, reconciles = append(reaps, reap), append(reconciles, rec)
	}
	return append(reaps, reconciles...)
}

// tickAt seeds n live workers and times the ticks.
func (b *bencher) tickAt(ctx context.Context, n int, reap, rec *Row) error {
	dir, err := os.MkdirTemp("", "dynpool-bench-tick-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "dynpool.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	clock := clockwork.NewFakeClockAt(time.Now().UTC())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	prov, err := sim.New(sim.Config{
		Installation: "bench", Clock: clock, Logger: quiet,
		RunAgent: func(context.Context, *provider.CreateParams) {}, // a machine without an agent costs nothing
	})
	if err != nil {
		return err
	}
	defer prov.Close()
	fl, err := fleet.New(fleet.Config{Installation: "bench", ServerURL: "http://127.0.0.1:1", Clock: clock, Logger: quiet}, st, prov)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := seed(ctx, st, prov, clock.Now(), n); err != nil {
		return err
	}
	seeded := time.Since(start)

	var reaps, recs samples
	for range b.size.ticks {
		start := time.Now()
		if err := fl.Reap(ctx); err != nil {
			return fmt.Errorf("reap: %w", err)
		}
		reaps = append(reaps, time.Since(start))
	}
	for range max(b.size.ticks/4, 2) {
		start := time.Now()
		if err := fl.Reconcile(ctx); err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		recs = append(recs, time.Since(start))
	}
	// A tick that changed something would not measure the steady state.
	left, err := st.WorkerList(ctx, &store.WorkerListParams{States: []string{api.WorkerIdle}})
	if err != nil {
		return err
	}
	if len(left) != n {
		return fmt.Errorf("%d of the %d seeded workers are idle after the ticks, want all", len(left), n)
	}
	reap.Value = reaps.p50p99()
	reap.Note = fmt.Sprintf("%d ticks, nothing due (the store's index on destroy_at); seeded in %s", len(reaps), round(seeded))
	rec.Value = recs.p50p99()
	rec.Note = fmt.Sprintf("%d ticks: list live workers, list sim machines, compare; nothing to do", len(recs))
	return nil
}

// seed writes n idle workers, spread over tickTenants tenants, each with
// a sim machine, as if they had registered at now.
func seed(ctx context.Context, st store.Store, prov provider.Provider, now time.Time, n int) error {
	pools := make([]*store.Pool, tickTenants)
	for i := range pools {
		t := &store.Tenant{ID: fmt.Sprintf("t-%d", i), Name: fmt.Sprintf("bench-%d", i), APIKeyHash: fmt.Sprintf("hash-%d", i), CreatedAt: now}
		if err := st.TenantCreate(ctx, t); err != nil {
			return fmt.Errorf("seed tenant: %w", err)
		}
		pools[i] = &store.Pool{ID: fmt.Sprintf("p-%d", i), TenantID: t.ID, Name: "bench", Type: "dynamic", Image: "ubuntu-default", IsDefault: true, CreatedAt: now}
		if err := st.PoolCreate(ctx, pools[i]); err != nil {
			return fmt.Errorf("seed pool: %w", err)
		}
	}
	due := now.Add(time.Hour)
	for i := range n {
		p := pools[i%len(pools)]
		wid := fmt.Sprintf("w-%d", i)
		res, err := prov.Create(ctx, &provider.CreateParams{
			WorkerID: wid, TenantID: p.TenantID, OS: "linux",
			Labels: map[string]string{provider.LabelInstallation: "bench", provider.LabelWorker: wid, provider.LabelTenant: p.TenantID},
		})
		if err != nil {
			return fmt.Errorf("seed machine: %w", err)
		}
		w := &store.Worker{
			ID: wid, TenantID: p.TenantID, PoolID: p.ID, Image: "ubuntu-18.04", Build: "2026.11.02",
			Provider: sim.Name, ResourceID: res.ID, State: api.WorkerIdle,
			CredentialHash: "cred-" + wid, CreatedAt: now, RegisteredAt: &now, LeasedAt: &now,
			LastUsedAt: &now, LastHeartbeatAt: &now, DestroyAt: &due,
		}
		if err := st.WorkerCreate(ctx, w, store.WorkerLimits{}); err != nil {
			return fmt.Errorf("seed worker: %w", err)
		}
	}
	return nil
}
