package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// CreateRegistrationToken makes a one-time token that registers one
// machine into static pool id (an id or name) within ttl (a Go duration;
// "" for the server's default of an hour). The token is in the answer
// only.
func (c *Client) CreateRegistrationToken(ctx context.Context, id, ttl string) (*api.RegistrationToken, error) {
	var tok api.RegistrationToken
	req := api.CreateRegistrationTokenRequest{TTL: ttl}
	if err := c.do(ctx, http.MethodPost, poolPath(id)+"/registration-tokens", req, &tok); err != nil {
		return nil, fmt.Errorf("create registration token for pool %s: %w", id, err)
	}
	return &tok, nil
}

// DeleteWorker deletes static worker id; its credential dies.
func (c *Client) DeleteWorker(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/workers/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("delete worker %s: %w", id, err)
	}
	return nil
}

// ListPoolWorkers returns the live workers of pool id (an id or name) —
// for a static pool, its registered machines; with all set, destroyed
// ones too (GET /api/v1/pools/{id}/workers).
func (c *Client) ListPoolWorkers(ctx context.Context, id string, all bool) ([]api.Worker, error) {
	path := poolPath(id) + "/workers"
	if all {
		path += "?all=true"
	}
	var l api.WorkerList
	if err := c.do(ctx, http.MethodGet, path, nil, &l); err != nil {
		return nil, fmt.Errorf("list workers of pool %s: %w", id, err)
	}
	return l.Workers, nil
}

// SetWorkerDisabled disables static worker id (it gets no step but stays
// registered) or, with disabled false, enables it again, and returns it.
func (c *Client) SetWorkerDisabled(ctx context.Context, id string, disabled bool) (*api.Worker, error) {
	action := "enable"
	if disabled {
		action = "disable"
	}
	var w api.Worker
	if err := c.do(ctx, http.MethodPost, "/api/v1/workers/"+url.PathEscape(id)+"/"+action, nil, &w); err != nil {
		return nil, fmt.Errorf("%s worker %s: %w", action, id, err)
	}
	return &w, nil
}
