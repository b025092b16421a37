package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
)

// workerRow is a worker as the workers pages show it.
type workerRow struct {
	api.Worker
	TenantName string
	PoolName   string
	// Idle is how long an idle worker has waited for a step; "" otherwise.
	Idle string
	// DestroyAt is when the worker will be destroyed, and Why says why.
	DestroyAt *time.Time
	Why       string
}

// timeouts are a tenant's effective idle timeout and max lifetime.
type timeouts struct{ idle, maxLife time.Duration }

func timeoutsOf(t api.Tenant) timeouts {
	idle, _ := time.ParseDuration(t.IdleTimeout) // the server writes them with Duration.String
	maxLife, _ := time.ParseDuration(t.MaxLifetime)
	return timeouts{idle, maxLife}
}

// workerRowOf says, for worker w under timeouts to at now, how long it has
// been idle and when and why it will be destroyed, following the fleet's
// rules: an idle worker goes at the earlier of idle timeout and max
// lifetime; a busy one at max lifetime, once its step ends.
func workerRowOf(w api.Worker, to timeouts, now time.Time) workerRow {
	row := workerRow{Worker: w, DestroyAt: w.DestroyAt}
	end := w.CreatedAt.Add(to.maxLife)
	if w.State == api.WorkerIdle && w.LastUsedAt != nil {
		row.Idle = span(now.Sub(*w.LastUsedAt))
	}
	switch {
	case w.DestroyReason != "":
		row.Why = "destroyed: " + strings.ReplaceAll(w.DestroyReason, "-", " ")
	case w.State == api.WorkerProvisioning:
		row.Why = "if its agent has not registered by then"
	case w.State == api.WorkerIdle && w.DestroyAt != nil && w.DestroyAt.Equal(end):
		row.Why = "max lifetime (" + span(to.maxLife) + ")"
	case w.State == api.WorkerIdle:
		row.Why = "idle timeout (" + span(to.idle) + " without a step)"
	default:
		row.DestroyAt = &end
		row.Why = "max lifetime (" + span(to.maxLife) + "), once its current step ends"
	}
	return row
}

func (c *Console) workerList(w http.ResponseWriter, r *http.Request, s *session) {
	ws, err := c.cfg.Backend.Workers(r.Context(), s.Tenant.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	pools, err := c.cfg.Backend.Pools(r.Context(), s.Tenant.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	names := map[string]string{}
	for _, p := range pools {
		names[p.ID] = p.Name
	}
	now, to := c.cfg.Clock.Now(), timeoutsOf(s.Tenant)
	rows := make([]workerRow, 0, len(ws))
	for _, wk := range ws {
		row := workerRowOf(wk, to, now)
		row.PoolName = names[wk.PoolID]
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "workers", view{Title: "Workers", Nav: "workers", Session: s, Data: rows})
}

func (c *Console) adminWorkerList(w http.ResponseWriter, r *http.Request, s *session) {
	ws, err := c.cfg.Backend.Workers(r.Context(), "")
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	tenants, err := c.cfg.Backend.Tenants(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	byID := map[string]api.Tenant{}
	for _, t := range tenants {
		byID[t.ID] = t
	}
	now := c.cfg.Clock.Now()
	rows := make([]workerRow, 0, len(ws))
	for _, wk := range ws {
		row := workerRowOf(wk, timeoutsOf(byID[wk.TenantID]), now)
		row.TenantName = byID[wk.TenantID].Name
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "workers", view{Title: "All workers", Nav: "admin-workers", Session: s, Data: rows})
}
