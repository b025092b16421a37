package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/validation"
)

// errNoCatalogFile answers a reload on a server that runs on the built-in
// catalog.
var errNoCatalogFile = errors.New("this server runs on the built-in catalog: start it with --catalog FILE to reload one")

// ReloadCatalog reads the catalog file again (SIGHUP and POST
// /api/v1/admin/catalog/reload). A broken file changes nothing: the error
// names its line and the old catalog stays. Idle workers the new catalog
// makes stale (a newer build, a decommissioned image, an alias moved) are
// recycled at once.
func (s *Server) ReloadCatalog(ctx context.Context) (*catalog.Catalog, error) {
	if s.cfg.CatalogPath == "" {
		return nil, errNoCatalogFile
	}
	cat, err := catalog.Load(s.cfg.CatalogPath)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "catalog reload failed; keeping the catalog in force", "path", s.cfg.CatalogPath, "error", err)
		return nil, validation.Errorf("catalog", "%v", err)
	}
	s.setCatalog(ctx, cat)
	s.cfg.Logger.InfoContext(ctx, "catalog reloaded", "path", s.cfg.CatalogPath, "images", len(cat.Images), "aliases", len(cat.Aliases))
	return cat, nil
}

// setCatalog puts cat in force and recycles the idle workers it retires.
func (s *Server) setCatalog(ctx context.Context, cat *catalog.Catalog) {
	s.catalog.Store(cat)
	s.recycle(ctx)
}

// recycle destroys the idle workers a change made stale now, rather than
// at the next reconcile. A failure is logged: the reaper tries again.
func (s *Server) recycle(ctx context.Context) {
	if err := s.fleet.Recycle(context.WithoutCancel(ctx)); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "recycle workers", "error", err)
	}
}

func (s *Server) reloadCatalog(w http.ResponseWriter, r *http.Request) {
	cat, err := s.ReloadCatalog(r.Context())
	if errors.Is(err, errNoCatalogFile) {
		err = conflict(err, "%v", err)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cat.API(s.cfg.Clock.Now()))
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, img := range s.catalog.Load().API(s.cfg.Clock.Now()).Images {
		if img.ID == id {
			writeJSON(w, http.StatusOK, img)
			return
		}
	}
	s.writeError(w, r, notFound(errors.New(id), "no image with id %q (aliases resolve through GET /api/v1/images)", id))
}

// addBuild adds a build to an image of the catalog in force; see
// api.AddBuildRequest for how long it lasts.
func (s *Server) addBuild(w http.ResponseWriter, r *http.Request) {
	var req api.AddBuildRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	released, err := time.Parse(time.DateOnly, req.Released)
	if err != nil {
		s.writeError(w, r, validation.Errorf("released", "%q is not a day such as 2026-11-02", req.Released))
		return
	}
	cur := s.catalog.Load()
	next, err := cur.WithBuild(r.PathValue("id"), &catalog.Build{Version: req.Version, Released: released, Artifacts: req.Artifacts})
	switch {
	case errors.Is(err, catalog.ErrUnknownImage):
		s.writeError(w, r, notFound(err, "%v", err))
		return
	case err != nil:
		s.writeError(w, r, validation.Errorf("version", "%v", err))
		return
	}
	if !s.catalog.CompareAndSwap(cur, next) {
		s.writeError(w, r, conflict(errors.New("catalog changed"), "the catalog changed during the request; try again"))
		return
	}
	s.recycle(r.Context())
	s.cfg.Logger.InfoContext(r.Context(), "image build added", "image", r.PathValue("id"), "build", req.Version)
	for _, img := range next.API(s.cfg.Clock.Now()).Images {
		if img.ID == r.PathValue("id") {
			writeJSON(w, http.StatusCreated, img)
			return
		}
	}
	writeJSON(w, http.StatusCreated, api.Image{ID: r.PathValue("id")}) // not offered yet: nothing more to show
}

func (s *Server) listDeprecations(w http.ResponseWriter, r *http.Request) {
	out, err := s.deprecationList(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// deprecationList answers, for every tenant, each pool whose image is
// deprecated (named directly: alias pools move on by themselves) or
// already decommissioned, with the days left before its steps fail (GET
// /api/v1/admin/deprecations and the console's deprecations report).
func (s *Server) deprecationList(ctx context.Context) (api.DeprecationList, error) {
	out := api.DeprecationList{Deprecations: []api.Deprecation{}}
	tenants, err := s.store.TenantList(ctx)
	if err != nil {
		return out, err
	}
	now := s.cfg.Clock.Now()
	cat := s.catalog.Load()
	for _, t := range tenants {
		pools, err := s.store.PoolList(ctx, t.ID)
		if err != nil {
			return out, err
		}
		for _, p := range pools {
			res, err := cat.Resolve(p.Image, now)
			deprecated := res != nil && res.Alias == nil && res.Status == api.ImageStatusDeprecated
			if err != nil || !(deprecated || res.Status == api.ImageStatusDecommissioned) {
				continue
			}
			d := api.Deprecation{
				TenantID: t.ID, TenantName: t.Name, PoolID: p.ID, PoolName: p.Name,
				Image: res.Image.ID, ImageName: res.Image.Name, Status: res.Status,
			}
			if eol := res.Image.EndOfLifeDate; !eol.IsZero() {
				d.EndOfLifeDate = eol.Format(time.DateOnly)
				d.DaysLeft = max(0, int(math.Ceil(eol.Sub(now).Hours()/24))) // a part day still counts
			}
			out.Deprecations = append(out.Deprecations, d)
		}
	}
	return out, nil
}
