package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// CreateTask starts a task (POST /api/v1/tasks) and returns it, usually
// in state queued.
func (c *Client) CreateTask(ctx context.Context, req api.CreateTaskRequest) (*api.Task, error) {
	var t api.Task
	if err := c.do(ctx, http.MethodPost, "/api/v1/tasks", req, &t); err != nil {
		return nil, fmt.Errorf("create task %q: %w", req.Name, err)
	}
	return &t, nil
}

// GetTask returns task id with its steps (GET /api/v1/tasks/{id}).
func (c *Client) GetTask(ctx context.Context, id string) (*api.Task, error) {
	var t api.Task
	if err := c.do(ctx, http.MethodGet, taskPath(id), nil, &t); err != nil {
		return nil, fmt.Errorf("get task %s: %w", id, err)
	}
	return &t, nil
}

// ListTasks returns the tenant's newest tasks, newest first (GET
// /api/v1/tasks).
func (c *Client) ListTasks(ctx context.Context) ([]api.Task, error) {
	var l api.TaskList
	if err := c.do(ctx, http.MethodGet, "/api/v1/tasks", nil, &l); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return l.Tasks, nil
}

// TaskLog returns the task log of task id so far, in Seq order
// (GET /api/v1/tasks/{id}/log). Use FollowLog to wait for more.
func (c *Client) TaskLog(ctx context.Context, id string) ([]api.LogLine, error) {
	var l api.LogList
	if err := c.do(ctx, http.MethodGet, taskPath(id)+"/log", nil, &l); err != nil {
		return nil, fmt.Errorf("get log of task %s: %w", id, err)
	}
	return l.Lines, nil
}

// CancelTask asks the server to cancel task id (POST
// /api/v1/tasks/{id}/cancel) and returns the task as the server then sees
// it; running steps end shortly after.
func (c *Client) CancelTask(ctx context.Context, id string) (*api.Task, error) {
	var t api.Task
	if err := c.do(ctx, http.MethodPost, taskPath(id)+"/cancel", nil, &t); err != nil {
		return nil, fmt.Errorf("cancel task %s: %w", id, err)
	}
	return &t, nil
}

func taskPath(id string) string { return "/api/v1/tasks/" + url.PathEscape(id) }
