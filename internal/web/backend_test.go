package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/dynpool/dynpool/api"
)

// Errors the fake backend answers, mapped by Describe as the server maps
// its own.
var (
	errFakeNotFound = errors.New("not found")
	errFakeAuth     = errors.New("unknown API key")
	errFakeInvalid  = errors.New("image: no such image")
)

const (
	fakeAdminToken = "dpa_admin"
	fakeKey        = "dpk_acme"
)

// fakeBackend holds one tenant, acme, with pool p1, and task k1; pool p9
// and task k9 belong to another tenant, so acme must not find them.
type fakeBackend struct {
	fingerprint string
	pools       map[string]api.Pool
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{fingerprint: "fp1", pools: map[string]api.Pool{
		"p1": {ID: "p1", Name: "Linux", Type: "dynamic", Image: "ubuntu-18.04", ResolvedImage: "ubuntu-18.04",
			IsDefault: true, Deprecated: true, ImageStatus: api.ImageStatusDeprecated, Warnings: []string{"deprecated"}},
	}}
}

var acme = api.Tenant{ID: "t1", Name: "acme", IdleTimeout: "1h0m0s", MaxLifetime: "72h0m0s"}

func (b *fakeBackend) SignIn(_ context.Context, token string) (Principal, error) {
	switch token {
	case fakeAdminToken:
		return Principal{Admin: true}, nil
	case fakeKey:
		return Principal{Tenant: acme, KeyFingerprint: b.fingerprint}, nil
	}
	return Principal{}, errFakeAuth
}

func (b *fakeBackend) TenantPrincipal(_ context.Context, id string) (Principal, error) {
	if id != acme.ID {
		return Principal{}, errFakeNotFound
	}
	return Principal{Tenant: acme, KeyFingerprint: b.fingerprint}, nil
}

func (b *fakeBackend) Pools(context.Context, string) ([]api.Pool, error) {
	return []api.Pool{b.pools["p1"]}, nil
}

func (b *fakeBackend) Pool(_ context.Context, tenantID, id string) (api.Pool, error) {
	p, ok := b.pools[id]
	if !ok || tenantID != acme.ID {
		return api.Pool{}, errFakeNotFound
	}
	return p, nil
}

func (b *fakeBackend) UpdatePool(ctx context.Context, tenantID, id string, req *api.UpdatePoolRequest) (api.Pool, error) {
	p, err := b.Pool(ctx, tenantID, id)
	if err != nil {
		return p, err
	}
	if *req.Image != "ubuntu-22.04" {
		return api.Pool{}, errFakeInvalid
	}
	p.Image, p.ResolvedImage, p.Deprecated, p.ImageStatus, p.Warnings = "ubuntu-22.04", "ubuntu-22.04", false, api.ImageStatusActive, nil
	b.pools[id] = p
	return p, nil
}

func (b *fakeBackend) Images(context.Context) api.ImageList {
	return api.ImageList{
		Images: []api.Image{
			{ID: "ubuntu-18.04", Name: "Ubuntu Server 18.04", OS: "linux", Status: api.ImageStatusDeprecated},
			{ID: "ubuntu-22.04", Name: "Ubuntu Server 22.04", OS: "linux", Status: api.ImageStatusActive,
				Tools: []api.Tool{{Name: "kubectl", Versions: []string{"1.22.6"}, Path: "/opt/kubectl/{{version}}/kubectl"}}},
		},
		Aliases: []api.Alias{{ID: "ubuntu-default", Name: "Ubuntu (default)", OS: "linux", ResolvesTo: "ubuntu-22.04"}},
	}
}

func (b *fakeBackend) Workers(context.Context, string) ([]api.Worker, error) {
	return []api.Worker{}, nil
}

func (b *fakeBackend) Tasks(context.Context, string) ([]api.Task, error) { return []api.Task{}, nil }

func (b *fakeBackend) Task(_ context.Context, tenantID, id string) (api.Task, error) {
	if id != "k1" || tenantID != acme.ID {
		return api.Task{}, errFakeNotFound
	}
	return api.Task{ID: "k1", Name: "deploy", State: api.StateRunning, Steps: []api.Step{}}, nil
}

func (b *fakeBackend) SubmitTask(context.Context, string, *api.CreateTaskRequest) (api.Task, error) {
	return api.Task{}, errFakeInvalid
}

func (b *fakeBackend) CancelTask(ctx context.Context, tenantID, id string) (api.Task, error) {
	return b.Task(ctx, tenantID, id)
}

func (b *fakeBackend) TaskLog(ctx context.Context, tenantID, id string) ([]api.LogLine, error) {
	_, err := b.Task(ctx, tenantID, id)
	return []api.LogLine{}, err
}

func (b *fakeBackend) StreamLog(w http.ResponseWriter, r *http.Request, tenantID, id string, _ int64) {
	if _, err := b.Task(r.Context(), tenantID, id); err != nil {
		http.Error(w, `{"error":{"code":"not_found"}}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	_, _ = w.Write([]byte("event: end\ndata: {}\n\n"))
}

func (b *fakeBackend) Tenants(context.Context) ([]api.Tenant, error) { return []api.Tenant{acme}, nil }

func (b *fakeBackend) Deprecations(context.Context) (api.DeprecationList, error) {
	return api.DeprecationList{Deprecations: []api.Deprecation{}}, nil
}

func (b *fakeBackend) Describe(err error) (int, api.Error) {
	switch {
	case err == nil:
		return http.StatusOK, api.Error{}
	case errors.Is(err, errFakeNotFound):
		return http.StatusNotFound, api.Error{Code: api.CodeNotFound, Message: "no such thing"}
	case errors.Is(err, errFakeAuth):
		return http.StatusUnauthorized, api.Error{Code: api.CodeUnauthenticated, Message: err.Error()}
	case errors.Is(err, errFakeInvalid):
		return http.StatusBadRequest, api.Error{Code: api.CodeInvalidArgument, Message: err.Error()}
	}
	return http.StatusInternalServerError, api.Error{Code: api.CodeInternal, Message: "internal error"}
}
