package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// ListPools returns the caller's worker pools (GET /api/v1/pools).
func (c *Client) ListPools(ctx context.Context) ([]api.Pool, error) {
	var l api.PoolList
	if err := c.do(ctx, http.MethodGet, "/api/v1/pools", nil, &l); err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return l.Pools, nil
}

// GetPool returns pool id (GET /api/v1/pools/{id}); another tenant's pool
// is an *Error with Status 404.
func (c *Client) GetPool(ctx context.Context, id string) (*api.Pool, error) {
	var p api.Pool
	if err := c.do(ctx, http.MethodGet, poolPath(id), nil, &p); err != nil {
		return nil, fmt.Errorf("get pool %s: %w", id, err)
	}
	return &p, nil
}

// CreatePool creates a worker pool (POST /api/v1/pools).
func (c *Client) CreatePool(ctx context.Context, req api.CreatePoolRequest) (*api.Pool, error) {
	var p api.Pool
	if err := c.do(ctx, http.MethodPost, "/api/v1/pools", req, &p); err != nil {
		return nil, fmt.Errorf("create pool %q: %w", req.Name, err)
	}
	return &p, nil
}

// UpdatePool changes pool id (PATCH /api/v1/pools/{id}); nil fields of req
// are left unchanged.
func (c *Client) UpdatePool(ctx context.Context, id string, req api.UpdatePoolRequest) (*api.Pool, error) {
	var p api.Pool
	if err := c.do(ctx, http.MethodPatch, poolPath(id), req, &p); err != nil {
		return nil, fmt.Errorf("update pool %s: %w", id, err)
	}
	return &p, nil
}

// DeletePool deletes pool id (DELETE /api/v1/pools/{id}).
func (c *Client) DeletePool(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, poolPath(id), nil, nil); err != nil {
		return fmt.Errorf("delete pool %s: %w", id, err)
	}
	return nil
}

func poolPath(id string) string { return "/api/v1/pools/" + url.PathEscape(id) }
