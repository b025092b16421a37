package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dynpool/dynpool/api"
)

// ListWorkers returns the caller's workers (GET /api/v1/workers); with all
// set, destroyed ones too (?all=true).
func (c *Client) ListWorkers(ctx context.Context, all bool) ([]api.Worker, error) {
	path := "/api/v1/workers"
	if all {
		path += "?all=true"
	}
	var l api.WorkerList
	if err := c.do(ctx, http.MethodGet, path, nil, &l); err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return l.Workers, nil
}

// AdminListWorkers returns every worker of every tenant, each with its
// TenantID (GET /api/v1/admin/workers, admin token).
func (c *Client) AdminListWorkers(ctx context.Context) ([]api.Worker, error) {
	var l api.WorkerList
	if err := c.do(ctx, http.MethodGet, "/api/v1/admin/workers", nil, &l); err != nil {
		return nil, fmt.Errorf("list all workers: %w", err)
	}
	return l.Workers, nil
}

// Health checks that the server is alive (GET /healthz); nil means it
// answered 2xx.
func (c *Client) Health(ctx context.Context) error {
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, nil); err != nil {
		return fmt.Errorf("check health: %w", err)
	}
	return nil
}
