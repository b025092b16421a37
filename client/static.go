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
