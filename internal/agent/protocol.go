package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/dynpool/dynpool/api"
)

// register exchanges the registration token c carries for the worker's
// credential.
func (c *client) register(ctx context.Context) (*api.RegisterResponse, time.Duration, error) {
	var resp api.RegisterResponse
	if _, err := c.call(ctx, http.MethodPost, "/agent/v1/register", callTimeout, struct{}{}, &resp); err != nil {
		return nil, 0, fmt.Errorf("register: %w", err)
	}
	interval, err := time.ParseDuration(resp.HeartbeatInterval)
	if err != nil || interval <= 0 {
		return nil, 0, fmt.Errorf("register: server sent heartbeat interval %q, want a positive Go duration", resp.HeartbeatInterval)
	}
	return &resp, interval, nil
}

func (c *client) heartbeat(ctx context.Context, req api.HeartbeatRequest) (*api.HeartbeatResponse, error) {
	var resp api.HeartbeatResponse
	if _, err := c.call(ctx, http.MethodPost, "/agent/v1/heartbeat", callTimeout, req, &resp); err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	return &resp, nil
}

// nextJob long-polls for a job other than the running ones for at most
// wait; it returns nil, nil when none came.
func (c *client) nextJob(ctx context.Context, wait time.Duration, running []string) (*api.Job, error) {
	var job api.Job
	q := url.Values{"wait": {wait.String()}}
	for _, id := range running {
		q.Add("running", id)
	}
	path := "/agent/v1/jobs/next?" + q.Encode()
	status, err := c.call(ctx, http.MethodGet, path, wait+pollSlack, nil, &job)
	if err != nil {
		return nil, fmt.Errorf("acquire job: %w", err)
	}
	if status == http.StatusNoContent {
		return nil, nil
	}
	return &job, nil
}

// uploadLog sends lines of job and reports whether the job was canceled.
func (c *client) uploadLog(ctx context.Context, jobID string, lines []api.AgentLogLine) (bool, error) {
	var resp api.AgentLogResponse
	path := "/agent/v1/jobs/" + url.PathEscape(jobID) + "/log"
	if _, err := c.call(ctx, http.MethodPost, path, callTimeout, api.AgentLogRequest{Lines: lines}, &resp); err != nil {
		return false, fmt.Errorf("upload log of job %s: %w", jobID, err)
	}
	return resp.Canceled, nil
}

func (c *client) complete(ctx context.Context, jobID string, req api.CompleteRequest) error {
	path := "/agent/v1/jobs/" + url.PathEscape(jobID) + "/complete"
	if _, err := c.call(ctx, http.MethodPost, path, callTimeout, req, nil); err != nil {
		return fmt.Errorf("complete job %s: %w", jobID, err)
	}
	return nil
}
