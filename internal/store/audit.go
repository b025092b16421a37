package store

import (
	"context"
	"time"
)

// AuditEntry is one recorded change by an operator or a tenant: a tenant
// created, its overrides changed, an API key created or revoked, a pool
// created, changed or deleted.
type AuditEntry struct {
	// Seq orders the entries (1, 2, 3, ...), set by AuditAppend.
	Seq  int64
	Time time.Time
	// TenantID is the tenant the change concerns; tenants read their own.
	TenantID string
	// Actor says who: "admin", "tenant <name>", or "console (...)".
	Actor string
	// Action is what, e.g. "tenant.create", "pool.update".
	Action string
	// Target is the id of what changed, Detail a sentence of how.
	Target string
	Detail string
	// Source is the address the request came from.
	Source string
}

// AuditListParams selects entries: a tenant's (every tenant's when
// TenantID is empty), newest first, at most Limit.
type AuditListParams struct {
	TenantID string
	Limit    int
}

// AuditStore keeps the audit log. Entries are never changed or deleted.
type AuditStore interface {
	// AuditAppend records e, setting its Seq.
	AuditAppend(ctx context.Context, e *AuditEntry) error
	// AuditList returns the entries p selects, newest first; a Limit below
	// 1 is an error.
	AuditList(ctx context.Context, p *AuditListParams) ([]*AuditEntry, error)
}
