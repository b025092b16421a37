package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// ListArtifacts returns the artifacts of task id by name (GET
// /api/v1/tasks/{id}/artifacts).
func (c *Client) ListArtifacts(ctx context.Context, id string) ([]api.Artifact, error) {
	var l api.ArtifactList
	if err := c.do(ctx, http.MethodGet, taskPath(id)+"/artifacts", nil, &l); err != nil {
		return nil, fmt.Errorf("list artifacts of task %s: %w", id, err)
	}
	return l.Artifacts, nil
}

// DownloadArtifact writes artifact name of task id to w (GET
// /api/v1/tasks/{id}/artifacts/{name}) and returns its hex SHA-256 as the
// server computed it when the artifact was stored; compare it with what
// w received to detect a cut download.
func (c *Client) DownloadArtifact(ctx context.Context, id, name string, w io.Writer) (string, error) {
	req, err := c.newRequest(ctx, http.MethodGet, taskPath(id)+"/artifacts/"+url.PathEscape(name), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("download artifact %s of task %s: %w", name, id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download artifact %s of task %s: %w", name, id, readError(resp))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", fmt.Errorf("download artifact %s of task %s: %w", name, id, err)
	}
	return resp.Header.Get("Dynpool-Artifact-Sha256"), nil
}
