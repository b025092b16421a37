package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// CreateTenant creates a tenant named name (POST /api/v1/admin/tenants,
// admin token). The answer's APIKey is shown this once only.
func (c *Client) CreateTenant(ctx context.Context, name string) (*api.Tenant, error) {
	var t api.Tenant
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/tenants", api.CreateTenantRequest{Name: name}, &t); err != nil {
		return nil, fmt.Errorf("create tenant %q: %w", name, err)
	}
	return &t, nil
}

// ListTenants returns every tenant (GET /api/v1/admin/tenants, admin token).
func (c *Client) ListTenants(ctx context.Context) ([]api.Tenant, error) {
	var l api.TenantList
	if err := c.do(ctx, http.MethodGet, "/api/v1/admin/tenants", nil, &l); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return l.Tenants, nil
}

// UpdateTenant changes the per-tenant overrides of tenant id (PATCH
// /api/v1/admin/tenants/{id}, admin token) and returns the tenant with its
// effective values.
func (c *Client) UpdateTenant(ctx context.Context, id string, req api.UpdateTenantRequest) (*api.Tenant, error) {
	var t api.Tenant
	if err := c.do(ctx, http.MethodPatch, "/api/v1/admin/tenants/"+url.PathEscape(id), req, &t); err != nil {
		return nil, fmt.Errorf("update tenant %s: %w", id, err)
	}
	return &t, nil
}
