package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// Bounds and defaults of a static pool's health check. A check runs at
// most every 10 seconds (it must not crowd out steps) and at least once a
// day; by default every 5 minutes, as often as a machine's disk or
// services usually need watching. A check that runs longer than its
// timeout (1 minute by default, 1 second to 10 minutes, and no longer than
// its interval) is stopped and fails. Its script travels in every
// heartbeat answer, hence a limit far below a step's.
const (
	DefaultHealthCheckInterval = 5 * time.Minute
	MinHealthCheckInterval     = 10 * time.Second
	MaxHealthCheckInterval     = 24 * time.Hour
	DefaultHealthCheckTimeout  = time.Minute
	MinHealthCheckTimeout      = time.Second
	MaxHealthCheckTimeout      = 10 * time.Minute
	MaxHealthCheckScript       = 64 << 10 // bytes
)

// HealthCheck returns static pool p's health check as its agents run it,
// every field filled in (the defaults where p sets none); nil when p has
// none.
func HealthCheck(p *store.Pool) *api.HealthCheck {
	hc := p.HealthCheck
	if hc.Script == "" {
		return nil
	}
	syntax := hc.Syntax
	if syntax == "" {
		syntax = api.SyntaxBash
	}
	return &api.HealthCheck{
		Syntax: syntax, Script: hc.Script,
		Interval: override(hc.Interval, DefaultHealthCheckInterval).String(),
		Timeout:  override(hc.Timeout, DefaultHealthCheckTimeout).String(),
	}
}

// CheckHealthCheckTiming says what is wrong with the interval and timeout
// of health check hc (0: the default): a validation error naming
// health_check.interval or health_check.timeout; nil when both are within
// bounds and the timeout is not longer than the interval.
func CheckHealthCheckTiming(hc store.HealthCheck) error {
	interval := override(hc.Interval, DefaultHealthCheckInterval)
	timeout := override(hc.Timeout, DefaultHealthCheckTimeout)
	if interval < MinHealthCheckInterval || interval > MaxHealthCheckInterval {
		return validation.Errorf("health_check.interval", "%s is not between %s and %s", interval, MinHealthCheckInterval, MaxHealthCheckInterval)
	}
	if timeout < MinHealthCheckTimeout || timeout > MaxHealthCheckTimeout {
		return validation.Errorf("health_check.timeout", "%s is not between %s and %s", timeout, MinHealthCheckTimeout, MaxHealthCheckTimeout)
	}
	if timeout > interval {
		return validation.Errorf("health_check.timeout", "%s is longer than the check's interval %s", timeout, interval)
	}
	return nil
}

// HealthChange is a change of a static worker's health-check status that
// RecordHealth made: From and To are "" (no check), api.HealthHealthy,
// api.HealthWarning or api.HealthFailed.
type HealthChange struct {
	From, To string
	Message  string
}

// Audited says whether the change goes to the audit log: only a change
// into or out of api.HealthFailed (the one that decides whether the
// worker takes steps); warning and healthy are recorded on the worker.
func (c *HealthChange) Audited() bool {
	return c.From == api.HealthFailed || c.To == api.HealthFailed
}

// RecordHealth records, on a heartbeat of static worker w (as read when
// the heartbeat came), the outcome res of a health check its agent ran
// (nil: none ended since the last heartbeat) under its pool's check
// (store.HealthCheck, Script "" for none), and returns the change of
// status it made, nil for none.
//
// An outcome that arrives sooner than half the check's interval after
// the last recorded one is ignored: an agent (a flapping check, or a
// hand-made agent) cannot make the server write more than that, nor the
// audit log grow faster. The outcome's time is the server's clock when it
// arrives. The write is guarded by the status and the time w was read
// with (store.WorkerUpdateParams.HealthStatusIs, HealthCheckedNotAfter):
// of two heartbeats at once only one records, so a change is returned
// (and audited) once. When the pool has no health check an outcome is
// ignored and an earlier one cleared, so a machine whose check failed
// serves again. A worker that stops failing may take a waiting step at
// once. A status other than the three outcomes is a validation error
// naming health_check.status; the message is cut to api.MaxHealthMessage
// bytes and made valid text.
func (f *Fleet) RecordHealth(ctx context.Context, w *store.Worker, check store.HealthCheck, res *api.HealthCheckResult) (*HealthChange, error) {
	if res != nil && res.Status != api.HealthHealthy && res.Status != api.HealthWarning && res.Status != api.HealthFailed {
		return nil, validation.Errorf("health_check.status", "%q is not %s, %s or %s", res.Status, api.HealthHealthy, api.HealthWarning, api.HealthFailed)
	}
	hasCheck := check.Script != ""
	upd := &store.WorkerUpdateParams{ID: w.ID, HealthStatusIs: &w.HealthStatus}
	switch {
	case !hasCheck && w.HealthStatus != "":
		none := ""
		upd.HealthStatus, upd.HealthMessage = &none, &none
	case !hasCheck || res == nil:
		return nil, nil
	default:
		now := f.cfg.Clock.Now()
		gap := override(check.Interval, DefaultHealthCheckInterval) / 2
		if w.HealthCheckedAt != nil && now.Sub(*w.HealthCheckedAt) < gap {
			f.cfg.Logger.DebugContext(ctx, "health-check outcome too soon after the last one ignored", "worker_id", w.ID,
				"tenant_id", w.TenantID, "last", w.HealthCheckedAt, "min_gap", gap)
			return nil, nil
		}
		notAfter, msg := now.Add(-gap), healthMessage(res.Message)
		upd.HealthStatus, upd.HealthMessage, upd.HealthCheckedAt, upd.HealthCheckedNotAfter = &res.Status, &msg, &now, &notAfter
	}
	cur, err := f.store.WorkerUpdate(ctx, upd)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		// Deleted meanwhile, or another heartbeat (or a pool edit) changed
		// its health since w was read: that one counts.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record health check of worker %s: %w", w.ID, err)
	}
	if cur.HealthStatus == w.HealthStatus {
		return nil, nil
	}
	change := &HealthChange{From: w.HealthStatus, To: cur.HealthStatus, Message: cur.HealthMessage}
	f.cfg.Logger.InfoContext(ctx, "static worker health changed", "worker_id", w.ID, "tenant_id", w.TenantID,
		"from", change.From, "to", change.To, "message", change.Message)
	if w.HealthStatus == api.HealthFailed {
		f.hub.Notify("released/" + w.TenantID) // a waiting step may take it
	}
	return change, nil
}

// healthMessage makes an agent's health-check message storable
// (store.Printable) and short: its last api.MaxHealthMessage bytes at
// most (the end of the output says most).
func healthMessage(m string) string {
	m = store.Printable(m)
	if len(m) <= api.MaxHealthMessage {
		return m
	}
	m = m[len(m)-api.MaxHealthMessage:]
	for len(m) > 0 && !utf8.RuneStart(m[0]) {
		m = m[1:]
	}
	return m
}
