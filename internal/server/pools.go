package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.catalog.Load().API(s.cfg.Clock.Now()))
}

func (s *Server) listPools(w http.ResponseWriter, r *http.Request) {
	out, err := s.poolList(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.PoolList{Pools: out})
}

// poolList returns the pools of tenant tenantID as the API shows them:
// GET /api/v1/pools and the console's pool list.
func (s *Server) poolList(ctx context.Context, tenantID string) ([]api.Pool, error) {
	ps, err := s.store.PoolList(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []api.Pool{}
	for _, p := range ps {
		out = append(out, s.poolAPI(p))
	}
	return out, nil
}

func (s *Server) getPool(w http.ResponseWriter, r *http.Request) {
	p, err := s.poolGet(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// poolGet returns pool id (or name) of tenant tenantID; another tenant's
// pool answers 404, as an unknown one does.
func (s *Server) poolGet(ctx context.Context, tenantID, id string) (api.Pool, error) {
	p, err := s.store.PoolGet(ctx, tenantID, id)
	if err != nil {
		return api.Pool{}, notFoundOr(err, "pool", id)
	}
	return s.poolAPI(p), nil
}

func (s *Server) createPool(w http.ResponseWriter, r *http.Request) {
	var req api.CreatePoolRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t := tenantOf(r)
	p := &store.Pool{
		ID: id.New("p"), TenantID: t.ID, Name: strings.TrimSpace(req.Name), Type: req.Type,
		Image: req.Image, IsDefault: req.IsDefault, MaxWorkers: req.MaxWorkers, Capacity: req.Capacity, CreatedAt: s.cfg.Clock.Now(),
	}
	if p.Capacity == 0 {
		p.Capacity = 1
	}
	if p.Type == "" {
		p.Type = api.PoolTypeDynamic
	}
	if err := setMachinePolicy(p, req.MachinePolicy); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := setHealthCheck(p, req.HealthCheck); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.checkPool(p, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.PoolGetDefault(r.Context(), t.ID); errors.Is(err, store.ErrNotFound) {
		p.IsDefault = true // the first pool of a tenant is its default pool
	}
	if err := s.store.PoolCreate(r.Context(), p); err != nil {
		s.writeError(w, r, poolNameTaken(err, p.Name))
		return
	}
	s.record(r.Context(), t.ID, "pool.create", p.ID, poolCreated(p))
	writeJSON(w, http.StatusCreated, s.poolAPI(p))
}

func (s *Server) updatePool(w http.ResponseWriter, r *http.Request) {
	var req api.UpdatePoolRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.poolUpdate(r.Context(), tenantOf(r).ID, r.PathValue("id"), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// poolUpdate applies req to pool id of tenant tenantID (PATCH
// /api/v1/pools/{id} and the console's pool edit) and recycles the idle
// workers the change made stale.
func (s *Server) poolUpdate(ctx context.Context, tenantID, id string, req *api.UpdatePoolRequest) (api.Pool, error) {
	p, err := s.store.PoolGet(ctx, tenantID, id)
	if err != nil {
		return api.Pool{}, notFoundOr(err, "pool", id)
	}
	before := *p
	if req.Name != nil {
		p.Name = strings.TrimSpace(*req.Name)
	}
	imageChanged := req.Image != nil && *req.Image != p.Image
	if req.Image != nil {
		p.Image = *req.Image
	}
	if req.MaxWorkers != nil {
		p.MaxWorkers = *req.MaxWorkers
	}
	if req.Capacity != nil {
		p.Capacity = *req.Capacity
	}
	if err := setMachinePolicy(p, req.MachinePolicy); err != nil {
		return api.Pool{}, err
	}
	if err := setHealthCheck(p, req.HealthCheck); err != nil {
		return api.Pool{}, err
	}
	if req.IsDefault != nil {
		if !*req.IsDefault {
			return api.Pool{}, validation.Errorf("is_default", "a tenant always has one default pool: make another pool the default instead")
		}
		p.IsDefault = true
	}
	// A rename or a new default leaves the image as it was, even one that
	// reached its end of life meanwhile.
	if err := s.checkPool(p, imageChanged); err != nil {
		return api.Pool{}, err
	}
	if err := s.store.PoolUpdate(ctx, p); err != nil {
		return api.Pool{}, poolNameTaken(err, p.Name)
	}
	s.record(ctx, tenantID, "pool.update", p.ID, poolChanges(&before, p))
	s.recycle(ctx) // idle workers of the old image go
	return s.poolAPI(p), nil
}

func (s *Server) deletePool(w http.ResponseWriter, r *http.Request) {
	t := tenantOf(r)
	p, err := s.store.PoolGet(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "pool", r.PathValue("id")))
		return
	}
	if p.IsDefault {
		all, err := s.store.PoolList(r.Context(), t.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(all) > 1 {
			s.writeError(w, r, conflict(store.ErrConflict, "pool %q is the default pool: make another pool the default before deleting it", p.Name))
			return
		}
	}
	if err := s.checkStaticPoolEmpty(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.PoolDelete(r.Context(), t.ID, p.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.record(r.Context(), t.ID, "pool.delete", p.ID, "named "+p.Name)
	s.recycle(r.Context()) // its idle workers go
	w.WriteHeader(http.StatusNoContent)
}

// poolNameTaken turns a store conflict on writing a pool into a 409 that
// names the pool.
func poolNameTaken(err error, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return conflict(err, "a pool named %q already exists", name)
	}
	return err
}

// checkPool refuses a pool that could not run a step: no name, or (when
// checkImage) an unknown or decommissioned image, or one no configured
// provider can make.
func (s *Server) checkPool(p *store.Pool, checkImage bool) error {
	if p.Name == "" || len(p.Name) > 200 {
		return validation.Errorf("name", "a pool needs a name of 1 to 200 characters")
	}
	if err := validation.Text("name", p.Name); err != nil {
		return err
	}
	if p.Capacity < 1 || p.Capacity > api.MaxPoolCapacity {
		return validation.Errorf("capacity", "%d is not from 1 to %d: give how many steps of the tenant one worker runs at once", p.Capacity, api.MaxPoolCapacity)
	}
	if p.Type == api.PoolTypeStatic {
		return s.checkStaticPool(p)
	}
	if p.Type != api.PoolTypeDynamic {
		return validation.Errorf("type", "pool type %q is not available; this server makes %q and %q pools", p.Type, api.PoolTypeDynamic, api.PoolTypeStatic)
	}
	if p.MaxWorkers < 0 {
		return validation.Errorf("max_workers", "%d is negative; give the most live workers the pool may hold, or 0 for no limit", p.MaxWorkers)
	}
	if !checkImage {
		return nil
	}
	if p.Image == "" {
		return validation.Errorf("image", "a dynamic pool needs an image: an image id or alias id from GET /api/v1/images")
	}
	res, err := s.catalog.Load().Resolve(p.Image, s.cfg.Clock.Now())
	if err != nil {
		return validation.Errorf("image", "%v", err)
	}
	if err := res.Decommissioned(p.Name); err != nil {
		return validation.Errorf("image", "%v", err)
	}
	prov := s.fleet.Provider()
	if err := prov.Supports(res.Image.OS, res.Build.Artifacts); err != nil {
		return validation.Errorf("image", "no configured provider can make %s (%s): %v", res.Image.Name, res.Image.ID, err)
	}
	return nil
}

func (s *Server) poolAPI(p *store.Pool) api.Pool {
	out := api.Pool{ID: p.ID, Name: p.Name, Type: p.Type, Image: p.Image, IsDefault: p.IsDefault, MaxWorkers: p.MaxWorkers, Capacity: p.Capacity, Warnings: []string{}}
	if p.Type == api.PoolTypeStatic {
		out.MachinePolicy = s.machinePolicyAPI(p)
		return out // no image to resolve
	}
	res, err := s.catalog.Load().Resolve(p.Image, s.cfg.Clock.Now())
	if res != nil && res.Image != nil {
		out.ResolvedImage = res.Image.ID
		out.Deprecated = res.Alias == nil && res.Status == api.ImageStatusDeprecated
		out.ImageStatus = res.Status
		if res.Alias != nil && res.Status == api.ImageStatusDeprecated {
			out.ImageStatus = api.ImageStatusActive
		}
		out.Warnings = append(out.Warnings, res.Warnings()...)
		if derr := res.Decommissioned(p.Name); derr != nil {
			out.Warnings = append(out.Warnings, derr.Error())
		}
	}
	if err != nil && !errors.Is(err, catalog.ErrDecommissioned) {
		out.Warnings = append(out.Warnings, "steps on this pool will fail: "+err.Error())
	}
	return out
}

// poolCreated says what a new pool is, e.g. "named web, image
// ubuntu-default" or "named build-machines, static" (", health check
// (bash, every 5m0s, timeout 1m0s)" after it when it has one).
func poolCreated(p *store.Pool) string {
	if p.Type == api.PoolTypeStatic {
		if hc := fleet.HealthCheck(p); hc != nil {
			return fmt.Sprintf("named %s, static, health check (%s, every %s, timeout %s)", p.Name, hc.Syntax, hc.Interval, hc.Timeout)
		}
		return "named " + p.Name + ", static"
	}
	return fmt.Sprintf("named %s, image %s", p.Name, p.Image)
}

// poolChanges says what an update changed, e.g. "image ubuntu-18.04 →
// ubuntu-22.04".
func poolChanges(before, after *store.Pool) string {
	var changes []string
	if before.Name != after.Name {
		changes = append(changes, fmt.Sprintf("name %s → %s", before.Name, after.Name))
	}
	if before.Image != after.Image {
		changes = append(changes, fmt.Sprintf("image %s → %s", before.Image, after.Image))
	}
	if before.MaxWorkers != after.MaxWorkers {
		changes = append(changes, fmt.Sprintf("max workers %d → %d", before.MaxWorkers, after.MaxWorkers))
	}
	if before.Capacity != after.Capacity {
		changes = append(changes, fmt.Sprintf("capacity %d → %d", before.Capacity, after.Capacity))
	}
	if before.IsDefault != after.IsDefault {
		changes = append(changes, "made the default pool")
	}
	if before.HeartbeatInterval != after.HeartbeatInterval || before.UnavailableAfter != after.UnavailableAfter {
		changes = append(changes, fmt.Sprintf("machine policy heartbeat %s → %s, unavailable after %s → %s (0s: the default)",
			before.HeartbeatInterval, after.HeartbeatInterval, before.UnavailableAfter, after.UnavailableAfter))
	}
	if c := healthCheckChange(before, after); c != "" {
		changes = append(changes, c)
	}
	if len(changes) == 0 {
		return "no change"
	}
	return strings.Join(changes, ", ")
}
