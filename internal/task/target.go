package task

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/store"
)

// cannotRun is a reason a step fails before any worker is made: its pool
// was deleted, its image does not resolve, is decommissioned or browned
// out, lacks a required tool, or no provider here can make it.
type cannotRun struct{ reason string }

func (e *cannotRun) Error() string { return e.reason }

func refuse(format string, args ...any) error {
	return &cannotRun{reason: fmt.Sprintf(format, args...)}
}

// stepTarget is what a step's pool resolves to at one instant.
type stepTarget struct {
	pool *store.Pool
	// res is nil for a static pool.
	res *catalog.Resolution
	// fleet is the image build for the fleet, with this provider's artifact.
	fleet *fleet.Target
}

// resolveStep reads the pool of step s and resolves its image at the
// clock's now, with every check that fails a step before a worker is made.
// It runs when the step starts and again each time Acquire looks for a
// worker, so a step that waits follows a pool edit, a new build or an end
// of life that comes meanwhile. Errors are *cannotRun, or the store's.
func (r *Runner) resolveStep(ctx context.Context, t *store.Task, s *store.Step) (*stepTarget, error) {
	pool, err := r.store.PoolGet(ctx, t.TenantID, s.PoolID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse("its pool %s was deleted after the task was queued", s.PoolID)
	}
	if err != nil {
		return nil, fmt.Errorf("get pool of step %s: %w", s.ID, err)
	}
	if pool.Type == api.PoolTypeStatic {
		// Machines the tenant registered: no image to resolve, nothing
		// to make.
		return &stepTarget{pool: pool, fleet: &fleet.Target{Static: true}}, nil
	}
	now := r.cfg.Clock.Now()
	cat := r.cfg.Catalog()
	res, err := cat.Resolve(pool.Image, now)
	if err != nil {
		return nil, refuse("pool %q: %v", pool.Name, err)
	}
	if err := res.Decommissioned(pool.Name); err != nil {
		return nil, refuse("%v", err)
	}
	if err := res.Brownout(pool.Name); err != nil {
		return nil, refuse("%v", err)
	}
	if err := r.checkRequires(cat, s, pool, res, now); err != nil {
		return nil, &cannotRun{reason: err.Error()}
	}
	prov := r.fleet.Provider()
	if err := prov.Supports(res.Image.OS, res.Build.Artifacts); err != nil {
		return nil, refuse("pool %q: %v", pool.Name, err)
	}
	ft := FleetTarget(cat, res, prov)
	ft.Capacity = pool.Capacity
	return &stepTarget{pool: pool, res: res, fleet: ft}, nil
}

// FleetTarget is the worker a resolution of cat asks for, as prov makes
// it: the image build, its artifact for prov, and the worker-tools images
// to cache. The standby workers of the server use it too, so a standby
// worker matches what a step would get.
func FleetTarget(cat *catalog.Catalog, res *catalog.Resolution, prov provider.Provider) *fleet.Target {
	return &fleet.Target{
		Image: res.Image.ID, Build: res.Build.Version, OS: res.Image.OS, Artifact: res.Build.Artifacts[prov.Name()],
		Cache: cat.WorkerTools.CacheRefs(res.Image.OS),
	}
}

// checkRequires returns the error naming the step's tool requirements that
// the resolved image lacks, and the images of cat that have them and that
// this server can make today; nil if none are missing.
func (r *Runner) checkRequires(cat *catalog.Catalog, s *store.Step, pool *store.Pool, res *catalog.Resolution, now time.Time) error {
	if len(s.Requires) == 0 {
		return nil
	}
	reqs := make([]catalog.Requirement, 0, len(s.Requires))
	for _, q := range s.Requires {
		req, err := catalog.ParseRequirement(q)
		if err != nil {
			return fmt.Errorf("step requirement: %w", err) // checked at submit; a bug if reached
		}
		reqs = append(reqs, req)
	}
	missing := res.Image.Missing(reqs)
	if len(missing) == 0 {
		return nil
	}
	var usable []*catalog.Image
	for _, img := range cat.Satisfying(reqs, now) {
		if b, ok := img.LatestBuild(now); ok && r.fleet.Provider().Supports(img.OS, b.Artifacts) == nil {
			usable = append(usable, img)
		}
	}
	return catalog.RequirementsError(pool.Name, res.Image, missing, usable)
}
