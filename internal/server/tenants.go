package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTenantRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 200 {
		s.writeError(w, r, validation.Errorf("name", "a tenant needs a name of 1 to 200 characters"))
		return
	}
	if err := validation.Text("name", name); err != nil {
		s.writeError(w, r, err)
		return
	}
	key := id.Secret("dpk")
	t := &store.Tenant{ID: id.New("t"), Name: name, APIKeyHash: id.Hash(key), APIKeyPrefix: keyPrefix(key), CreatedAt: s.cfg.Clock.Now()}
	if err := s.store.TenantCreate(r.Context(), t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			err = conflict(err, "a tenant named %q already exists", name)
		}
		s.writeError(w, r, err)
		return
	}
	s.record(r.Context(), t.ID, "tenant.create", t.ID, "named "+t.Name)
	out := s.tenantAPI(t)
	out.APIKey = key
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	out, err := s.tenantList(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.TenantList{Tenants: out})
}

// tenantList returns every tenant with its effective overrides (GET
// /api/v1/admin/tenants and the console's tenant page).
func (s *Server) tenantList(ctx context.Context) ([]api.Tenant, error) {
	ts, err := s.store.TenantList(ctx)
	if err != nil {
		return nil, err
	}
	out := []api.Tenant{}
	for _, t := range ts {
		out = append(out, s.tenantAPI(t))
	}
	return out, nil
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) {
	var req api.UpdateTenantRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.store.TenantGet(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "tenant", r.PathValue("id")))
		return
	}
	if err := applyOverride(&t.IdleTimeout, req.IdleTimeout, "idle_timeout"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := applyOverride(&t.MaxLifetime, req.MaxLifetime, "max_lifetime"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.MaxWorkers != nil {
		if *req.MaxWorkers < 0 {
			s.writeError(w, r, validation.Errorf("max_workers", "must be 0 (no limit) or more, not %d", *req.MaxWorkers))
			return
		}
		t.MaxWorkers = *req.MaxWorkers
	}
	if err := s.store.TenantUpdate(r.Context(), t); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Recorded once stored: a failure below does not undo the change.
	s.record(r.Context(), t.ID, "tenant.update", t.ID, fmt.Sprintf("overrides: idle timeout %s, max lifetime %s, max workers %d (0: the server's)",
		t.IdleTimeout, t.MaxLifetime, t.MaxWorkers))
	if err := s.fleet.TenantChanged(r.Context(), t); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.tenantAPI(t))
}

// maxOverride bounds idle timeout and max lifetime overrides: a year is
// beyond any sane worker life, and it keeps computed times far from the
// limits of the stored clock.
const maxOverride = 365 * 24 * time.Hour

// applyOverride parses a duration override: nil leaves d alone, "" removes
// the override, anything else must be a Go duration in (0, maxOverride].
func applyOverride(d *time.Duration, v *string, field string) error {
	if v == nil {
		return nil
	}
	if *v == "" {
		*d = 0
		return nil
	}
	parsed, err := time.ParseDuration(*v)
	if err != nil || parsed <= 0 {
		return validation.Errorf(field, "%q is not a positive duration such as \"90m\" or \"72h\"", *v)
	}
	if parsed > maxOverride {
		return validation.Errorf(field, "%s is longer than the limit of %s", parsed, maxOverride)
	}
	*d = parsed
	return nil
}

func (s *Server) tenantAPI(t *store.Tenant) api.Tenant {
	idle, maxLife := s.fleet.Timeouts(t)
	return api.Tenant{
		ID: t.ID, Name: t.Name, IdleTimeout: idle.String(), MaxLifetime: maxLife.String(),
		MaxWorkers: t.MaxWorkers, CreatedAt: t.CreatedAt,
	}
}
