package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/web"
)

// newConsole makes the web console on top of the same methods the JSON
// API handlers call. Its session key is derived from the admin token, so
// replicas sharing the token share sessions, and a new token ends them.
func (s *Server) newConsole() (*web.Console, error) {
	m := hmac.New(sha256.New, []byte(s.adminToken))
	m.Write([]byte("dynpool console session key v1"))
	c, err := web.New(web.Config{
		Backend: consoleBackend{s}, SessionKey: m.Sum(nil), Clock: s.cfg.Clock, Logger: s.cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return c, nil
}

// consoleBackend is the web.Backend of a Server: each method is the body
// of the API handler of the same data.
type consoleBackend struct{ s *Server }

var _ web.Backend = consoleBackend{}

// SignIn accepts the admin token, or a tenant API key as the API's
// tenant middleware does.
func (b consoleBackend) SignIn(ctx context.Context, token string) (web.Principal, error) {
	if equalSecret(token, b.s.adminToken) {
		return web.Principal{Admin: true}, nil
	}
	t, err := b.s.tenantByKey(ctx, token)
	if err != nil {
		return web.Principal{}, err
	}
	return b.principal(ctx, t)
}

// TenantPrincipal re-reads a signed-in tenant; 404 once it is gone.
func (b consoleBackend) TenantPrincipal(ctx context.Context, tenantID string) (web.Principal, error) {
	t, err := b.s.store.TenantGet(ctx, tenantID)
	if err != nil {
		return web.Principal{}, notFoundOr(err, "tenant", tenantID)
	}
	return b.principal(ctx, t)
}

// principal is tenant t signed in. Its key fingerprint covers all of t's
// API keys (keyFingerprint): revoking one signs the tenant's console
// sessions out.
func (b consoleBackend) principal(ctx context.Context, t *store.Tenant) (web.Principal, error) {
	fp, err := b.s.keyFingerprint(ctx, t.ID)
	if err != nil {
		return web.Principal{}, err
	}
	return web.Principal{Tenant: b.s.tenantAPI(t), KeyFingerprint: fp}, nil
}

func (b consoleBackend) Pools(ctx context.Context, tenantID string) ([]api.Pool, error) {
	return b.s.poolList(ctx, tenantID)
}

func (b consoleBackend) Pool(ctx context.Context, tenantID, id string) (api.Pool, error) {
	return b.s.poolGet(ctx, tenantID, id)
}

func (b consoleBackend) UpdatePool(ctx context.Context, tenantID, id string, req *api.UpdatePoolRequest) (api.Pool, error) {
	return b.s.poolUpdate(ctx, tenantID, id, req)
}

func (b consoleBackend) Images(context.Context) api.ImageList {
	return b.s.catalog.Load().API(b.s.cfg.Clock.Now())
}

func (b consoleBackend) Workers(ctx context.Context, tenantID string) ([]api.Worker, error) {
	return b.s.workerList(ctx, tenantID, false, tenantID == "")
}

func (b consoleBackend) Tasks(ctx context.Context, tenantID string) ([]api.Task, error) {
	return b.s.taskList(ctx, tenantID)
}

func (b consoleBackend) Task(ctx context.Context, tenantID, id string) (api.Task, error) {
	return b.s.taskGet(ctx, tenantID, id)
}

func (b consoleBackend) SubmitTask(ctx context.Context, tenantID string, req *api.CreateTaskRequest) (api.Task, error) {
	t, err := b.s.store.TenantGet(ctx, tenantID)
	if err != nil {
		return api.Task{}, notFoundOr(err, "tenant", tenantID)
	}
	return b.s.taskSubmit(ctx, t, req)
}

func (b consoleBackend) CancelTask(ctx context.Context, tenantID, id string) (api.Task, error) {
	return b.s.taskCancel(ctx, tenantID, id)
}

func (b consoleBackend) TaskLog(ctx context.Context, tenantID, id string) ([]api.LogLine, error) {
	return b.s.logList(ctx, tenantID, id, 0)
}

func (b consoleBackend) StreamLog(w http.ResponseWriter, r *http.Request, tenantID, id string, after int64) {
	b.s.streamLog(w, r, tenantID, id, after)
}

func (b consoleBackend) Tenants(ctx context.Context) ([]api.Tenant, error) {
	return b.s.tenantList(ctx)
}

func (b consoleBackend) Deprecations(ctx context.Context) (api.DeprecationList, error) {
	return b.s.deprecationList(ctx)
}

// Describe is the API's error mapping (apiError).
func (b consoleBackend) Describe(err error) (int, api.Error) {
	if err == nil {
		return http.StatusOK, api.Error{}
	}
	return apiError(err)
}
