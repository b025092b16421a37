// Package client is the Go client for the dynpool HTTP API: tenants, images,
// pools, tasks, task logs and workers, as described by the wire types in
// package api. The CLI and end-to-end tests use it.
//
// Every method takes a context first and sends the client's token as
// "Authorization: Bearer <token>". A non-2xx answer comes back as *Error.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls one dynpool server. It is safe for concurrent use.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
	// reconnectDelay is the base wait before FollowLog reopens a broken
	// stream; tests shorten it.
	reconnectDelay time.Duration
}

// Option changes how New builds a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc instead of
// http.DefaultClient (for timeouts, proxies or test transports).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// New returns a Client for the server at baseURL (e.g.
// "http://127.0.0.1:8080"; a trailing slash is ignored) that authenticates
// with token, a tenant API key or the admin token. An empty token sends no
// Authorization header.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		token:   token,
		http:    http.DefaultClient,

		reconnectDelay: reconnectDelay,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// newRequest builds a request for path (which may carry a query) with in,
// when not nil, as its JSON body.
func (c *Client) newRequest(ctx context.Context, method, path string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// do sends method path with in as the JSON body (nil for none) and decodes
// a 2xx answer into out (nil to discard it). A non-2xx answer is an *Error.
// Callers wrap the error with what they were doing.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	req, err := c.newRequest(ctx, method, path, in)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err // *url.Error already names the method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
