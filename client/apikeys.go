package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

func apiKeysPath(tenantID string) string {
	return "/api/v1/admin/tenants/" + url.PathEscape(tenantID) + "/api-keys"
}

// ListAPIKeys returns tenantID's API keys, oldest first, by id and prefix
// (GET /api/v1/admin/tenants/{id}/api-keys, admin token).
func (c *Client) ListAPIKeys(ctx context.Context, tenantID string) ([]api.APIKey, error) {
	var l api.APIKeyList
	if err := c.do(ctx, http.MethodGet, apiKeysPath(tenantID), nil, &l); err != nil {
		return nil, fmt.Errorf("list API keys of tenant %s: %w", tenantID, err)
	}
	return l.APIKeys, nil
}

// CreateAPIKey adds an API key to tenantID and returns it, with the key
// itself (shown this once) in Key (POST .../api-keys, admin token).
func (c *Client) CreateAPIKey(ctx context.Context, tenantID string) (*api.APIKey, error) {
	var k api.APIKey
	if err := c.do(ctx, http.MethodPost, apiKeysPath(tenantID), nil, &k); err != nil {
		return nil, fmt.Errorf("create API key of tenant %s: %w", tenantID, err)
	}
	return &k, nil
}

// RevokeAPIKey deletes API key keyID of tenantID: it stops working at
// once (DELETE .../api-keys/{key}, admin token).
func (c *Client) RevokeAPIKey(ctx context.Context, tenantID, keyID string) error {
	if err := c.do(ctx, http.MethodDelete, apiKeysPath(tenantID)+"/"+url.PathEscape(keyID), nil, nil); err != nil {
		return fmt.Errorf("revoke API key %s of tenant %s: %w", keyID, tenantID, err)
	}
	return nil
}
