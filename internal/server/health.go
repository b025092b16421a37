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
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/validation"
)

// setHealthCheck sets static pool p's health check from hc (nil:
// unchanged). A request changes only the fields it gives: an absent
// (empty) syntax, script, interval or timeout keeps p's current one (on
// a pool without a check, the default), so a new script keeps the
// check's syntax, interval and timeout; every field empty
// ({"script":""}) removes the check. A check on a dynamic pool, a
// script or syntax a step could not have, a duration that is not a Go
// duration or is out of bounds ([fleet.CheckHealthCheckTiming]) is a
// validation error naming the health_check field at fault.
func setHealthCheck(p *store.Pool, hc *api.HealthCheck) error {
	if hc == nil {
		return nil
	}
	if p.Type != api.PoolTypeStatic {
		return validation.Errorf("health_check", "a health check is for static pools; a dynamic pool's workers are made fresh from an image")
	}
	if *hc == (api.HealthCheck{}) {
		p.HealthCheck = store.HealthCheck{}
		return nil
	}
	next := p.HealthCheck
	if hc.Script != "" {
		next.Script = hc.Script
	}
	if next.Script == "" {
		return validation.Errorf("health_check.script", "the pool has no health check yet: give a script, or {\"script\": \"\"} alone to remove the check")
	}
	if hc.Syntax != "" {
		next.Syntax = hc.Syntax
	}
	syntax, err := task.CheckScript("health_check", next.Syntax, next.Script, fleet.MaxHealthCheckScript)
	if err != nil {
		return err
	}
	next.Syntax = syntax
	if err := parseDurations([]durationField{
		{"health_check.interval", hc.Interval, &next.Interval},
		{"health_check.timeout", hc.Timeout, &next.Timeout},
	}, true); err != nil {
		return err
	}
	if err := fleet.CheckHealthCheckTiming(next); err != nil {
		return err
	}
	p.HealthCheck = next
	return nil
}

// healthCheckChange says how an update changed a pool's health check,
// "" for not at all.
func healthCheckChange(before, after *store.Pool) string {
	switch b, a := fleet.HealthCheck(before), fleet.HealthCheck(after); {
	case before.HealthCheck == after.HealthCheck:
		return ""
	case a == nil:
		return "health check removed (the machines' outcomes cleared)"
	case b == nil:
		return fmt.Sprintf("health check added (%s, every %s, timeout %s)", a.Syntax, a.Interval, a.Timeout)
	case a.Key() != b.Key():
		return fmt.Sprintf("health check changed (%s, every %s, timeout %s; the machines' outcomes cleared)", a.Syntax, a.Interval, a.Timeout)
	default:
		return fmt.Sprintf("health check changed (%s, every %s, timeout %s)", a.Syntax, a.Interval, a.Timeout)
	}
}

// workerHealthAPI returns static worker wk's last health check, nil
// before its first.
func workerHealthAPI(wk *store.Worker) *api.WorkerHealth {
	if wk.HealthStatus == "" {
		return nil
	}
	return &api.WorkerHealth{Status: wk.HealthStatus, Message: wk.HealthMessage, CheckedAt: wk.HealthCheckedAt}
}

// agentPolicy is what a heartbeat answer tells an agent to keep: its
// heartbeat interval and the health check it runs (nil: none).
type agentPolicy struct {
	interval    time.Duration
	healthCheck *api.HealthCheck
	// check is the pool's health check as stored (Script "": none).
	check store.HealthCheck
}

// agentPolicyOf returns the policy of wk's agent: its static pool's
// machine policy, else the server's interval and no health check.
func (s *Server) agentPolicyOf(ctx context.Context, wk *store.Worker) (agentPolicy, error) {
	def := agentPolicy{interval: s.fleet.HeartbeatInterval()}
	if wk.Provider != api.ProviderStatic {
		return def, nil
	}
	pool, err := s.store.PoolGet(ctx, wk.TenantID, wk.PoolID)
	if errors.Is(err, store.ErrNotFound) {
		return def, nil
	}
	if err != nil {
		return def, fmt.Errorf("get pool of worker %s: %w", wk.ID, err)
	}
	interval, _ := s.fleet.MachinePolicy(pool)
	return agentPolicy{interval: interval, healthCheck: fleet.HealthCheck(pool), check: pool.HealthCheck}, nil
}

// recordHealth records the health-check outcome a heartbeat of static
// worker wk brought (res, nil for none; see [fleet.Fleet.RecordHealth]
// for the outcomes it ignores) and puts a change into or out of failed
// in the audit log (worker.health, by "agent <worker id>"): not every
// passing check, nor warning ↔ healthy, which the worker shows. An outcome whose key is not that of the pool's
// current check (api.HealthCheckResult.Key) is ignored.
func (s *Server) recordHealth(r *http.Request, wk *store.Worker, policy agentPolicy, res *api.HealthCheckResult) error {
	if wk.Provider != api.ProviderStatic {
		return nil
	}
	if hc := policy.healthCheck; res != nil && hc != nil && res.Key != hc.Key() {
		// A check that ran before the pool's script changed (or an agent
		// that sends no key) says nothing about the current check.
		s.cfg.Logger.DebugContext(r.Context(), "health-check outcome of another check ignored", "worker_id", wk.ID,
			"tenant_id", wk.TenantID, "key", res.Key, "current_key", hc.Key())
		res = nil
	}
	change, err := s.fleet.RecordHealth(r.Context(), wk, policy.check, res)
	if err != nil || change == nil || !change.Audited() {
		return err
	}
	detail := fmt.Sprintf("named %s: health check %s → %s", wk.Name, healthWord(change.From), healthWord(change.To))
	if change.To == "" {
		detail += " (its pool has no health check any more)"
	}
	if msg := strings.TrimSpace(change.Message); msg != "" && change.To != api.HealthHealthy {
		detail += ": " + msg
	}
	ctx := withActor(r, "agent "+wk.ID).Context()
	s.record(ctx, wk.TenantID, "worker.health", wk.ID, detail)
	return nil
}

// healthWord names a health-check status in the audit log.
func healthWord(status string) string {
	if status == "" {
		return "none"
	}
	return status
}
