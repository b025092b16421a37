package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
)

// Prefix is the path every console page lives under.
const Prefix = "/console/"

// DefaultSessionTTL is how long a console session lasts after sign-in.
const DefaultSessionTTL = 8 * time.Hour

// minSessionKey is the least number of bytes of Config.SessionKey (the
// output size of SHA-256).
const minSessionKey = 32

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Principal is who a console session belongs to: the operator (Admin) or
// one tenant.
type Principal struct {
	Admin bool
	// Tenant is the tenant with its effective overrides; zero for Admin.
	Tenant api.Tenant
	// KeyFingerprint changes when the tenant's API key does; a session
	// made with another fingerprint is over.
	KeyFingerprint string
}

// Backend is what the console needs of the server: the same functions
// the JSON API handlers call. Errors are the API's; Describe turns them
// into status and message. tenantID scopes every tenant call: another
// tenant's pool or task is not found.
type Backend interface {
	// SignIn checks a tenant API key or the admin token.
	SignIn(ctx context.Context, token string) (Principal, error)
	// TenantPrincipal re-reads the tenant of a session.
	TenantPrincipal(ctx context.Context, tenantID string) (Principal, error)

	Pools(ctx context.Context, tenantID string) ([]api.Pool, error)
	Pool(ctx context.Context, tenantID, id string) (api.Pool, error)
	UpdatePool(ctx context.Context, tenantID, id string, req *api.UpdatePoolRequest) (api.Pool, error)
	Images(ctx context.Context) api.ImageList
	// Workers lists live workers of tenantID, or of every tenant for "".
	Workers(ctx context.Context, tenantID string) ([]api.Worker, error)

	Tasks(ctx context.Context, tenantID string) ([]api.Task, error)
	Task(ctx context.Context, tenantID, id string) (api.Task, error)
	SubmitTask(ctx context.Context, tenantID string, req *api.CreateTaskRequest) (api.Task, error)
	CancelTask(ctx context.Context, tenantID, id string) (api.Task, error)
	TaskLog(ctx context.Context, tenantID, id string) ([]api.LogLine, error)
	// StreamLog answers a text/event-stream of the task's log lines after
	// line after, as GET /api/v1/tasks/{id}/log?follow=true does.
	StreamLog(w http.ResponseWriter, r *http.Request, tenantID, id string, after int64)

	Tenants(ctx context.Context) ([]api.Tenant, error)
	Deprecations(ctx context.Context) (api.DeprecationList, error)

	// Describe maps an error to the HTTP status and error the API answers.
	Describe(err error) (int, api.Error)
}

// Config configures the console.
type Config struct {
	// Backend serves the data; required.
	Backend Backend
	// SessionKey signs session cookies; at least 32 bytes, required.
	SessionKey []byte
	// SessionTTL is how long a session lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// Clock times sessions and the ages shown; nil means the real clock.
	Clock  clockwork.Clock
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Backend == nil {
		errs = append(errs, errors.New("a backend is required"))
	}
	if len(c.SessionKey) < minSessionKey {
		errs = append(errs, errors.New("a session key of 32 bytes or more is required"))
	}
	return errors.Join(errs...)
}

// Console is the console's HTTP handler.
type Console struct {
	cfg   Config
	pages pages
	mux   *http.ServeMux
}

// New returns the console; mount it at [Prefix].
func New(cfg Config) (*Console, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("console config: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, pages: pages, mux: http.NewServeMux()}
	c.routes()
	return c, nil
}

// ServeHTTP serves the console's pages with its security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	m := c.mux
	static, _ := fs.Sub(staticFS, "static") // the directory is embedded: Sub cannot fail
	m.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /console/{$}", c.home)
	m.HandleFunc("GET /console/signin", c.signInPage)
	m.HandleFunc("POST /console/signin", c.sameOrigin(c.signIn))
	m.HandleFunc("POST /console/signout", c.sameOrigin(c.signedIn(c.signOut)))

	m.HandleFunc("GET /console/pools", c.tenantOnly(c.poolList))
	m.HandleFunc("GET /console/pools/{id}", c.tenantOnly(c.poolPage))
	m.HandleFunc("POST /console/pools/{id}", c.sameOrigin(c.tenantOnly(c.poolUpdate)))
	m.HandleFunc("GET /console/workers", c.tenantOnly(c.workerList))
	m.HandleFunc("GET /console/images", c.signedIn(c.imageList))
	m.HandleFunc("GET /console/tasks", c.tenantOnly(c.taskList))
	m.HandleFunc("POST /console/tasks", c.sameOrigin(c.tenantOnly(c.taskSubmit)))
	m.HandleFunc("GET /console/tasks/{id}", c.tenantOnly(c.taskPage))
	m.HandleFunc("GET /console/tasks/{id}/log", c.tenantOnly(c.taskLogStream))
	m.HandleFunc("POST /console/tasks/{id}/cancel", c.sameOrigin(c.tenantOnly(c.taskCancel)))

	m.HandleFunc("GET /console/admin/tenants", c.adminOnly(c.tenantList))
	m.HandleFunc("GET /console/admin/workers", c.adminOnly(c.adminWorkerList))
	m.HandleFunc("GET /console/admin/deprecations", c.adminOnly(c.deprecationList))

	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, c.optionalSession(r), http.StatusNotFound, "There is no console page at "+r.URL.Path+".")
	})
}

// home sends a visitor to the first page of what they may see.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	sess := c.optionalSession(r)
	switch {
	case sess == nil:
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	case sess.Admin:
		http.Redirect(w, r, "/console/admin/tenants", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/console/pools", http.StatusSeeOther)
	}
}
