package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/web"
)

// errUnauthenticated is wrapped by every 401 answer; the wrapping text
// says which credential the endpoint wants.
var errUnauthenticated = errors.New("unauthenticated")

func unauthenticated(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUnauthenticated}, args...)...)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	admin, tenant, agent := s.admin, s.tenant, s.agent

	mux.HandleFunc("POST /api/v1/admin/tenants", admin(s.createTenant))
	mux.HandleFunc("GET /api/v1/admin/tenants", admin(s.listTenants))
	mux.HandleFunc("PATCH /api/v1/admin/tenants/{id}", admin(s.updateTenant))
	mux.HandleFunc("GET /api/v1/admin/tenants/{id}/api-keys", admin(s.listAPIKeys))
	mux.HandleFunc("POST /api/v1/admin/tenants/{id}/api-keys", admin(s.createAPIKey))
	mux.HandleFunc("DELETE /api/v1/admin/tenants/{id}/api-keys/{key}", admin(s.revokeAPIKey))
	mux.HandleFunc("GET /api/v1/admin/workers", admin(s.adminListWorkers))
	mux.HandleFunc("GET /api/v1/admin/audit", admin(s.adminListAudit))
	mux.HandleFunc("GET /api/v1/audit", tenant(s.listAudit))
	mux.HandleFunc("POST /api/v1/admin/catalog/reload", admin(s.reloadCatalog))
	mux.HandleFunc("POST /api/v1/admin/images/{id}/builds", admin(s.addBuild))
	mux.HandleFunc("GET /api/v1/admin/deprecations", admin(s.listDeprecations))

	mux.HandleFunc("GET /api/v1/images", tenant(s.listImages))
	mux.HandleFunc("GET /api/v1/images/{id}", tenant(s.getImage))
	mux.HandleFunc("GET /api/v1/pools", tenant(s.listPools))
	mux.HandleFunc("POST /api/v1/pools", tenant(s.createPool))
	mux.HandleFunc("GET /api/v1/pools/{id}", tenant(s.getPool))
	mux.HandleFunc("PATCH /api/v1/pools/{id}", tenant(s.updatePool))
	mux.HandleFunc("DELETE /api/v1/pools/{id}", tenant(s.deletePool))
	mux.HandleFunc("POST /api/v1/pools/{id}/registration-tokens", tenant(s.createRegistrationToken))
	mux.HandleFunc("GET /api/v1/pools/{id}/workers", tenant(s.listPoolWorkers))
	mux.HandleFunc("GET /api/v1/tasks", tenant(s.listTasks))
	mux.HandleFunc("POST /api/v1/tasks", tenant(s.createTask))
	mux.HandleFunc("GET /api/v1/tasks/{id}", tenant(s.getTask))
	mux.HandleFunc("GET /api/v1/tasks/{id}/log", tenant(s.taskLog))
	mux.HandleFunc("POST /api/v1/tasks/{id}/cancel", tenant(s.cancelTask))
	mux.HandleFunc("GET /api/v1/tasks/{id}/artifacts", tenant(s.listTaskArtifacts))
	mux.HandleFunc("GET /api/v1/tasks/{id}/artifacts/{name}", tenant(s.getTaskArtifact))
	mux.HandleFunc("GET /api/v1/workers", tenant(s.listWorkers))
	mux.HandleFunc("DELETE /api/v1/workers/{id}", tenant(s.deleteWorker))
	mux.HandleFunc("POST /api/v1/workers/{id}/disable", tenant(s.disableWorker(true)))
	mux.HandleFunc("POST /api/v1/workers/{id}/enable", tenant(s.disableWorker(false)))
	mux.HandleFunc("GET /api/v1/step-templates", tenant(s.listStepTemplates))
	mux.HandleFunc("POST /api/v1/step-templates", tenant(s.createStepTemplate))
	mux.HandleFunc("GET /api/v1/step-templates/{id}", tenant(s.getStepTemplate))
	mux.HandleFunc("DELETE /api/v1/step-templates/{id}", tenant(s.deleteStepTemplate))

	mux.HandleFunc("POST /agent/v1/register", s.register)
	mux.HandleFunc("POST /agent/v1/static/register", s.registerStatic)
	mux.HandleFunc("POST /agent/v1/heartbeat", agent(s.heartbeat))
	mux.HandleFunc("GET /agent/v1/jobs/next", agent(s.nextJob))
	mux.HandleFunc("POST /agent/v1/jobs/{id}/log", agent(s.jobLog))
	mux.HandleFunc("POST /agent/v1/jobs/{id}/complete", agent(s.completeJob))
	mux.HandleFunc("POST /agent/v1/jobs/{id}/container", agent(s.runContainer))
	// A step's script, with its job's credential (DYNPOOL_JOB_TOKEN).
	mux.HandleFunc("PUT /agent/v1/jobs/{id}/artifacts/{name}", s.job(s.putJobArtifact))
	mux.HandleFunc("GET /agent/v1/jobs/{id}/artifacts", s.job(s.listJobArtifacts))
	mux.HandleFunc("GET /agent/v1/jobs/{id}/artifacts/{name}", s.job(s.getJobArtifact))

	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "starting or stopping"})
			return
		}
		writeJSON(w, http.StatusOK, api.Health{Status: "ready"})
	})
	// The console's pages; "/" itself leads there, while any other
	// unknown path still answers the JSON 404 below. Its changes are
	// audited as the console's, from the browser's address.
	mux.Handle(web.Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.console.ServeHTTP(w, withActor(r, "console"))
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, web.Prefix, http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, api.ErrorResponse{Error: api.Error{
			Code: api.CodeNotFound, Message: "no route for " + r.Method + " " + r.URL.Path,
		}})
	})
	return mux
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if v, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

type ctxKey int

const (
	tenantKey ctxKey = iota
	workerKey
)

// admin lets a request through with the admin token only.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := bearer(r)
		if !equalSecret(token, s.adminToken) {
			err := unauthenticated("the admin API needs the admin token as bearer token")
			if strings.HasPrefix(token, "dpk_") {
				err = unauthenticated("the admin API needs the admin token, not a tenant API key")
			}
			s.writeError(w, r, err)
			return
		}
		h(w, withActor(r, "admin"))
	}
}

// tenant lets a request through with a tenant API key and puts the
// tenant in its context.
func (s *Server) tenant(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := s.tenantByKey(r.Context(), bearer(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		r = withActor(r, "tenant "+t.Name)
		h(w, r.WithContext(context.WithValue(r.Context(), tenantKey, t)))
	}
}

// tenantByKey finds the tenant whose API key is key; a missing or unknown
// key, or the admin token, is errUnauthenticated saying which. The API
// and the console's sign-in both authenticate tenants here.
func (s *Server) tenantByKey(ctx context.Context, key string) (*store.Tenant, error) {
	switch {
	case key == "":
		return nil, unauthenticated("no bearer token: send a tenant API key as 'Authorization: Bearer <key>'")
	case equalSecret(key, s.adminToken):
		return nil, unauthenticated("this API needs a tenant API key; the admin token opens /api/v1/admin only")
	}
	t, err := s.store.TenantGetByKeyHash(ctx, id.Hash(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthenticated("unknown API key")
	}
	if err != nil {
		return nil, fmt.Errorf("find tenant by API key: %w", err)
	}
	return t, nil
}

// agent lets a request through with a worker credential and puts the
// worker in its context.
func (s *Server) agent(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wk, err := s.fleet.Authenticate(r.Context(), bearer(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), workerKey, wk)))
	}
}

func tenantOf(r *http.Request) *store.Tenant { return r.Context().Value(tenantKey).(*store.Tenant) }
func workerOf(r *http.Request) *store.Worker { return r.Context().Value(workerKey).(*store.Worker) }
