package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// Registration tokens of static pools: valid an hour unless the request
// says otherwise, at most a week.
const (
	defaultRegistrationTTL = time.Hour
	maxRegistrationTTL     = 7 * 24 * time.Hour
)

// checkStaticPool refuses a static pool with an image (its machines are
// the tenant's own, registered with a token), a worker limit, or a
// machine policy out of bounds.
func (s *Server) checkStaticPool(p *store.Pool) error {
	if p.Image != "" {
		return validation.Errorf("image", "a static pool has no image: its workers are machines registered with a registration token")
	}
	if p.MaxWorkers != 0 {
		return validation.Errorf("max_workers", "a static pool holds the machines registered into it; it takes no worker limit")
	}
	if p.Capacity != 1 {
		return validation.Errorf("capacity", "a static pool's machines run one step at a time (not yet configurable)")
	}
	if err := s.fleet.CheckMachinePolicy(p); err != nil {
		return validation.Errorf("machine_policy", "%v", err)
	}
	return nil
}

// setMachinePolicy sets p's machine policy from mp (nil: unchanged; ""
// fields: the server's defaults). A machine policy on a dynamic pool, a
// figure that is not a Go duration, or a HealthCheck other than p's
// current one as the pool's answer shows it (that one is ignored) is a
// validation error.
func setMachinePolicy(p *store.Pool, mp *api.MachinePolicy) error {
	if mp == nil {
		return nil
	}
	if p.Type != api.PoolTypeStatic {
		return validation.Errorf("machine_policy", "a machine policy is for static pools; a dynamic pool's workers are watched by the server's own figures")
	}
	// The answer shows the check here: a client that sends back what it
	// got is not refused, but the check is changed only by health_check.
	if cur := fleet.HealthCheck(p); mp.HealthCheck != nil && (cur == nil || *mp.HealthCheck != *cur) {
		return validation.Errorf("machine_policy.health_check", "machine_policy.health_check only shows the pool's check; change it with the request's health_check field, beside machine_policy")
	}
	return parseDurations([]durationField{
		{"machine_policy.heartbeat_interval", mp.HeartbeatInterval, &p.HeartbeatInterval},
		{"machine_policy.unavailable_after", mp.UnavailableAfter, &p.UnavailableAfter},
	}, false)
}

// durationField is a request field holding a Go duration, and where it
// goes.
type durationField struct {
	field, value string
	to           *time.Duration
}

// parseDurations sets each field's destination to its value ("": 0, or
// with keep the destination stays as it is); a value that is not a
// positive Go duration is a validation error naming its field.
func parseDurations(fields []durationField, keep bool) error {
	for _, f := range fields {
		if f.value == "" {
			if !keep {
				*f.to = 0
			}
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil || d <= 0 {
			return validation.Errorf(f.field, "%q is not a positive Go duration such as \"30s\"", f.value)
		}
		*f.to = d
	}
	return nil
}

// machinePolicyAPI returns static pool p's machine policy as it applies.
func (s *Server) machinePolicyAPI(p *store.Pool) *api.MachinePolicy {
	interval, after := s.fleet.MachinePolicy(p)
	return &api.MachinePolicy{HeartbeatInterval: interval.String(), UnavailableAfter: after.String(), HealthCheck: fleet.HealthCheck(p)}
}

// checkStaticPoolEmpty refuses (409) to delete static pool p while
// machines are registered into it: deleting the pool would leave them
// idle with working credentials, in a pool no step can name. Their
// tenant deletes them first (DELETE /api/v1/workers/{id}), which kills
// each credential on purpose. A registration racing the pool's deletion
// is not excluded: its token goes with the pool, but one used just before
// may still add a worker.
func (s *Server) checkStaticPoolEmpty(ctx context.Context, p *store.Pool) error {
	if p.Type != api.PoolTypeStatic {
		return nil
	}
	ws, err := s.store.WorkerList(ctx, &store.WorkerListParams{TenantID: p.TenantID, PoolID: p.ID, States: fleet.LiveStates})
	if err != nil {
		return fmt.Errorf("list workers of pool %s: %w", p.ID, err)
	}
	if len(ws) > 0 {
		return conflict(store.ErrConflict, "static pool %q still has registered machines (%d): delete them first (dynpool workers delete ID), then the pool", p.Name, len(ws))
	}
	return nil
}

// createRegistrationToken answers POST /api/v1/pools/{id}/registration-tokens:
// a one-time token (shown once; only its hash is kept) that registers one
// machine into the tenant's static pool before it expires.
func (s *Server) createRegistrationToken(w http.ResponseWriter, r *http.Request) {
	var req api.CreateRegistrationTokenRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ttl := defaultRegistrationTTL
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 || d > maxRegistrationTTL {
			s.writeError(w, r, validation.Errorf("ttl", "%q is not a duration between 0s and %s", req.TTL, maxRegistrationTTL))
			return
		}
		ttl = d
	}
	t := tenantOf(r)
	pool, err := s.store.PoolGet(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "pool", r.PathValue("id")))
		return
	}
	if pool.Type != api.PoolTypeStatic {
		s.writeError(w, r, conflict(store.ErrConflict, "pool %q is a %s pool: registration tokens are for static pools, whose machines register themselves", pool.Name, pool.Type))
		return
	}
	now := s.cfg.Clock.Now()
	token := id.Secret("dpr")
	k := &store.RegistrationToken{ID: id.New("r"), TenantID: t.ID, PoolID: pool.ID, TokenHash: id.Hash(token),
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.RegistrationTokenCreate(r.Context(), k); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.record(r.Context(), t.ID, "registration_token.create", k.ID, fmt.Sprintf("for pool %s, expires %s", pool.Name, k.ExpiresAt.Format(time.RFC3339)))
	writeJSON(w, http.StatusCreated, api.RegistrationToken{ID: k.ID, PoolID: pool.ID, Token: token, ExpiresAt: k.ExpiresAt})
}

// registerStatic answers POST /agent/v1/static/register: a machine trades
// a registration token for a worker of the token's static pool and its
// credential.
func (s *Server) registerStatic(w http.ResponseWriter, r *http.Request) {
	var req api.StaticRegisterRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		s.writeError(w, r, validation.Errorf("name", "a machine needs a name of 1 to 200 characters"))
		return
	}
	if err := validation.Text("name", req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	wk, interval, credential, err := s.fleet.RegisterStatic(r.Context(), &fleet.RegisterStaticParams{Token: bearer(r), Pool: req.Pool, Name: req.Name})
	if errors.Is(err, fleet.ErrUnknownAgent) {
		s.writeError(w, r, unauthenticated("the registration token is unknown, used already, expired, or not for pool %q", req.Pool))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.record(withActor(r, "agent").Context(), wk.TenantID, "worker.register", wk.ID, fmt.Sprintf("machine %s into pool %s", wk.Name, req.Pool))
	writeJSON(w, http.StatusOK, api.RegisterResponse{
		WorkerID: wk.ID, Credential: credential, HeartbeatInterval: interval.String(),
	})
}

// deleteWorker answers DELETE /api/v1/workers/{id}: the tenant removes a
// static worker; its credential dies. Workers a provider made are not
// deleted this way (409).
func (s *Server) deleteWorker(w http.ResponseWriter, r *http.Request) {
	wid := r.PathValue("id")
	if err := s.fleet.DeleteStatic(r.Context(), tenantOf(r).ID, wid); err != nil {
		s.writeError(w, r, staticWorkerError(err, wid))
		return
	}
	s.record(r.Context(), tenantOf(r).ID, "worker.delete", wid, "static worker deleted; its credential died")
	w.WriteHeader(http.StatusNoContent)
}

// listPoolWorkers answers GET /api/v1/pools/{id}/workers: the live
// workers of one of the tenant's pools (with ?all=true the destroyed ones
// too), as GET /api/v1/workers shows them. For a static pool, its
// registered machines.
func (s *Server) listPoolWorkers(w http.ResponseWriter, r *http.Request) {
	t := tenantOf(r)
	pool, err := s.store.PoolGet(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "pool", r.PathValue("id")))
		return
	}
	p := &store.WorkerListParams{TenantID: t.ID, PoolID: pool.ID}
	if r.URL.Query().Get("all") != "true" {
		p.States = fleet.LiveStates
	}
	out, err := s.workersAPI(r.Context(), p, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.WorkerList{Workers: out})
}

// disableWorker answers POST /api/v1/workers/{id}/disable and
// /enable: a disabled static worker gets no step but stays registered.
func (s *Server) disableWorker(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wid, t := r.PathValue("id"), tenantOf(r)
		wk, err := s.fleet.SetDisabled(r.Context(), t.ID, wid, disabled)
		if err != nil {
			s.writeError(w, r, staticWorkerError(err, wid))
			return
		}
		action := "worker.enable"
		if disabled {
			action = "worker.disable"
		}
		s.record(r.Context(), t.ID, action, wk.ID, "named "+wk.Name)
		writeJSON(w, http.StatusOK, workerAPI(wk))
	}
}

// staticWorkerError maps the fleet's errors about static worker wid to
// the API's: 409 for a provider's worker or one that is gone, 404 for an
// unknown one or another tenant's.
func staticWorkerError(err error, wid string) error {
	switch {
	case errors.Is(err, fleet.ErrNotStatic):
		return conflict(err, "worker %s was made by a provider; only static workers are disabled, enabled or deleted by their tenant", wid)
	case errors.Is(err, store.ErrConflict):
		return conflict(err, "worker %s is gone already", wid)
	default:
		return notFoundOr(err, "worker", wid)
	}
}
