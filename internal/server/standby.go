package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/standby"
	"github.com/dynpool/dynpool/internal/task"
)

// checkStandby says which entries of cfg name no image or alias of cat.
func checkStandby(cfg *standby.Config, cat *catalog.Catalog) error {
	if cfg == nil {
		return nil
	}
	var errs []error
	for i, e := range cfg.Entries {
		_, isImage := cat.Image(e.Image)
		_, isAlias := cat.Alias(e.Image)
		if !isImage && !isAlias {
			errs = append(errs, fmt.Errorf("standby[%d]: %q is no image or alias of the catalog", i, e.Image))
		}
	}
	return errors.Join(errs...)
}

// standbyTargets computes the fleet's standby targets (its
// Config.Standby) from the standby file and the catalog in force.
type standbyTargets struct {
	cfg     atomic.Pointer[standby.Config]
	catalog func() *catalog.Catalog
	prov    provider.Provider
	warn    func(ctx context.Context, msg string, args ...any)

	mu sync.Mutex
	// skipped holds, by image, the reason its standby workers are not made
	// now, so each reason is logged once.
	skipped map[string]string
}

// at returns the image builds to keep standby workers of at now, with
// their counts. An image that cannot have workers now (it does not
// resolve, is decommissioned or browned out, or the provider cannot make
// it) gets none, and the reason is logged when it changes.
func (s *standbyTargets) at(ctx context.Context, now time.Time) ([]fleet.StandbyTarget, error) {
	cat := s.catalog()
	var out []fleet.StandbyTarget
	for _, want := range s.cfg.Load().At(now) {
		res, err := cat.Resolve(want.Image, now)
		if err == nil {
			err = res.Decommissioned("standby")
		}
		if err == nil {
			err = res.Brownout("standby")
		}
		if err == nil {
			err = s.prov.Supports(res.Image.OS, res.Build.Artifacts)
		}
		s.note(ctx, want.Image, err)
		if err != nil {
			continue
		}
		out = append(out, fleet.StandbyTarget{Target: *task.FleetTarget(cat, res, s.prov), Count: want.Count})
	}
	return out, nil
}

// note logs why image's standby workers are not made, once per reason.
func (s *standbyTargets) note(ctx context.Context, image string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reason := ""
	if err != nil {
		reason = err.Error()
	}
	if s.skipped[image] == reason {
		return
	}
	s.skipped[image] = reason
	if reason != "" {
		s.warn(ctx, "no standby workers of this image now", "image", image, "reason", reason)
	}
}

// errNoStandbyFile answers a standby reload on a server started without
// --standby.
var errNoStandbyFile = errors.New("this server was started without --standby FILE: restart it with one to keep standby workers")

// ReloadStandby reads the standby file again (SIGHUP). A broken file, or
// one naming an image the catalog lacks, changes nothing: the error says
// why and the old counts stay. The new counts apply at the fleet's next
// standby pass (within a reaper period): missing workers are made,
// surplus ones destroyed.
func (s *Server) ReloadStandby(ctx context.Context) error {
	if s.standby == nil {
		return errNoStandbyFile
	}
	cfg, err := standby.Load(s.cfg.StandbyPath)
	if err == nil {
		err = checkStandby(cfg, s.catalog.Load())
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "standby reload failed; keeping the counts in force", "path", s.cfg.StandbyPath, "error", err)
		return err
	}
	s.standby.cfg.Store(cfg)
	s.cfg.Logger.InfoContext(ctx, "standby file reloaded", "path", s.cfg.StandbyPath, "entries", len(cfg.Entries))
	return nil
}
