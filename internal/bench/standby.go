package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/standby"
)

// standby measures the first step of a brand-new tenant when one standby
// worker (process provider) is ready: submit → first output line, beside
// the bare shell. Each sample waits for the replacement standby worker
// before the next tenant comes.
func (b *bencher) standby(ctx context.Context) []Row {
	row := Row{Key: keyStandby, Name: "standby hit (process): first step of a new tenant → first output line"}
	var got samples
	err := func() error {
		file, err := os.CreateTemp("", "dynpool-bench-standby-*.yaml")
		if err != nil {
			return err
		}
		path := file.Name()
		file.Close()
		defer os.Remove(path)
		write := func(count int) error {
			return os.WriteFile(path, fmt.Appendf(nil, "standby:\n  - {image: ubuntu-default, count: %d}\n", count), 0o600)
		}
		if err := write(1); err != nil {
			return err
		}
		cfg, err := standby.Load(path)
		if err != nil {
			return err
		}
		s, err := b.startServer(ctx, func(c *server.Config) { c.Standby, c.StandbyPath = cfg, path })
		if err != nil {
			return err
		}
		defer s.close(ctx, b.logger)
		// No standby workers once measured, so that close can drain.
		defer func() {
			err := write(0)
			if err == nil {
				err = s.ReloadStandby(ctx)
			}
			if err != nil {
				b.logger.WarnContext(ctx, "turn standby off before closing", "error", err)
			}
		}()
		for i := range b.size.cold {
			if err := s.waitStandby(ctx); err != nil {
				return err
			}
			c, err := s.tenant(ctx, fmt.Sprintf("bench-standby-%d", i), "ubuntu-default")
			if err != nil {
				return err
			}
			d, err := runStep(ctx, c, startStep, firstLine)
			if err != nil {
				return err
			}
			got = append(got, d)
		}
		return nil
	}()
	return []Row{b.withShell(ctx, row, got, err, b.size.cold)}
}

// waitStandby waits (up to a minute) until the server has an idle standby
// worker.
func (s *testServer) waitStandby(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		ws, err := s.admin.AdminListWorkers(ctx)
		if err != nil {
			return fmt.Errorf("list workers: %w", err)
		}
		for _, w := range ws {
			if w.TenantID == "" && w.State == api.WorkerIdle {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no idle standby worker within a minute")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
