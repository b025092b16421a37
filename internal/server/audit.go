package server

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// auditLimit is the most entries one audit answer holds (?limit=).
const auditLimit = 1000

// auditWho is who makes a request, put in its context by the admin and
// tenant wrappers for the audit log.
type auditWho struct{ actor, source string }

type auditKey struct{}

// withActor returns r carrying actor and r's source address.
func withActor(r *http.Request, actor string) *http.Request {
	source := r.RemoteAddr
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	return r.WithContext(context.WithValue(r.Context(), auditKey{}, auditWho{actor: actor, source: source}))
}

// record adds an entry to the audit log: who and from where (from ctx,
// as withActor put it there) changed what of tenant tenantID. A failure
// is logged: the change itself happened.
func (s *Server) record(ctx context.Context, tenantID, action, target, detail string) {
	who, _ := ctx.Value(auditKey{}).(auditWho)
	e := &store.AuditEntry{Time: s.cfg.Clock.Now(), TenantID: tenantID, Actor: who.actor, Action: action,
		Target: target, Detail: detail, Source: who.source}
	if err := s.store.AuditAppend(context.WithoutCancel(ctx), e); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit entry not recorded", "action", action, "tenant_id", tenantID, "error", err)
	}
}

// listAudit answers GET /api/v1/audit: the tenant's own entries.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	s.writeAudit(w, r, tenantOf(r).ID)
}

// adminListAudit answers GET /api/v1/admin/audit[?tenant=ID]: every
// tenant's entries, or one's.
func (s *Server) adminListAudit(w http.ResponseWriter, r *http.Request) {
	s.writeAudit(w, r, r.URL.Query().Get("tenant"))
}

func (s *Server) writeAudit(w http.ResponseWriter, r *http.Request, tenantID string) {
	limit := auditLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditLimit {
			s.writeError(w, r, validation.Errorf("limit", "%q is not a number from 1 to %d", v, auditLimit))
			return
		}
		limit = n
	}
	entries, err := s.store.AuditList(r.Context(), &store.AuditListParams{TenantID: tenantID, Limit: limit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.AuditList{Entries: []api.AuditEntry{}}
	for _, e := range entries {
		out.Entries = append(out.Entries, api.AuditEntry{Seq: e.Seq, Time: e.Time, TenantID: e.TenantID, Actor: e.Actor,
			Action: e.Action, Target: e.Target, Detail: e.Detail, Source: e.Source})
	}
	writeJSON(w, http.StatusOK, out)
}
