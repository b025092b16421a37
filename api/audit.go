package api

import "time"

// AuditEntry is one recorded change (GET /api/v1/audit for a tenant's
// own, GET /api/v1/admin/audit?tenant=ID for the operator).
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	TenantID string    `json:"tenant_id,omitempty"`
	// Actor is "admin", "tenant <name>" or "console".
	Actor string `json:"actor"`
	// Action is one of tenant.create, tenant.update, apikey.create,
	// apikey.revoke, pool.create, pool.update, pool.delete,
	// worker.disable, worker.enable, worker.health (a static worker's
	// health-check status changed; by "agent <worker id>").
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Source is the address the request came from.
	Source string `json:"source,omitempty"`
}

// AuditList is the answer of the audit endpoints, newest first.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
}
