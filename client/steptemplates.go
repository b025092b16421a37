package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dynpool/dynpool/api"
)

// ImportStepTemplate sends data, a file of the community step-template
// library, as it is (POST /api/v1/step-templates) and returns the stored
// version. A file the server refuses is an *Error whose Field names the
// key at fault.
func (c *Client) ImportStepTemplate(ctx context.Context, data []byte) (*api.StepTemplate, error) {
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/step-templates", nil)
	if err != nil {
		return nil, fmt.Errorf("import step template: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("import step template: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("import step template: %w", readError(resp))
	}
	var st api.StepTemplate
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("import step template: decode answer: %w", err)
	}
	return &st, nil
}

// ListStepTemplates returns the newest version of each step template
// (GET /api/v1/step-templates), by name.
func (c *Client) ListStepTemplates(ctx context.Context) ([]api.StepTemplate, error) {
	var l api.StepTemplateList
	if err := c.do(ctx, http.MethodGet, "/api/v1/step-templates", nil, &l); err != nil {
		return nil, fmt.Errorf("list step templates: %w", err)
	}
	return l.StepTemplates, nil
}

// GetStepTemplate returns version (0: the newest) of step template id with
// its parameters and script (GET /api/v1/step-templates/{id}).
func (c *Client) GetStepTemplate(ctx context.Context, id string, version int) (*api.StepTemplate, error) {
	path := stepTemplatePath(id)
	if version > 0 {
		path += "?version=" + strconv.Itoa(version)
	}
	var st api.StepTemplate
	if err := c.do(ctx, http.MethodGet, path, nil, &st); err != nil {
		return nil, fmt.Errorf("get step template %s: %w", id, err)
	}
	return &st, nil
}

// DeleteStepTemplate deletes every version of step template id.
func (c *Client) DeleteStepTemplate(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, stepTemplatePath(id), nil, nil); err != nil {
		return fmt.Errorf("delete step template %s: %w", id, err)
	}
	return nil
}

func stepTemplatePath(id string) string { return "/api/v1/step-templates/" + url.PathEscape(id) }
