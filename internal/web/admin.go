package web

import "net/http"

// tenantList shows every tenant with its effective overrides.
func (c *Console) tenantList(w http.ResponseWriter, r *http.Request, s *session) {
	ts, err := c.cfg.Backend.Tenants(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "tenants", view{Title: "Tenants", Nav: "admin-tenants", Session: s, Data: ts})
}

// deprecationList shows the pools whose image is deprecated or
// decommissioned, across tenants, with the days left.
func (c *Console) deprecationList(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.cfg.Backend.Deprecations(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "deprecations", view{Title: "Deprecations", Nav: "admin-deprecations", Session: s, Data: d.Deprecations})
}
