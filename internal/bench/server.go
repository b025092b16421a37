package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/server"
)

// testServer is a dynpool server run by the bench in this process.
type testServer struct {
	*server.Server
	admin *client.Client
	// hc is the HTTP client of the tenant clients it makes.
	hc *http.Client
	// noDrain skips waiting for the workers to go at close: the sim
	// provider's agents end with the server.
	noDrain bool
	dir     string
	// closing silences the server's log once close stops it.
	closing *atomic.Bool
	stop    context.CancelFunc
	done    chan error
}

// startServer runs a server on a loopback port with a temporary data
// directory, the bench's agent command and short reaper periods;
// mutate adjusts the config first. Stop it with close.
func (b *bencher) startServer(ctx context.Context, mutate func(*server.Config)) (*testServer, error) {
	dir, err := os.MkdirTemp("", "dynpool-bench-")
	if err != nil {
		return nil, fmt.Errorf("make data directory: %w", err)
	}
	cfg := server.Config{
		Listen: "127.0.0.1:0", DataDir: dir,
		AgentCommand: b.opt.AgentCommand,
		IdleTimeout:  10 * time.Minute,
		ReaperPeriod: 200 * time.Millisecond, ReconcilePeriod: 2 * time.Second,
	}
	// The servers' own info lines (a worker created, a task taken) would
	// drown the bench's progress, and so would the requests that a
	// stopping server cuts short.
	closing := new(atomic.Bool)
	cfg.Logger = slog.New(warnOnly{Handler: b.logger.Handler(), closing: closing}).With("component", "server")
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	return &testServer{
		Server: srv, admin: client.New(srv.URL(), srv.AdminToken()), hc: http.DefaultClient,
		dir: dir, stop: stop, done: done, closing: closing,
	}, nil
}

// close drains the server's workers (so no worker process or container
// outlives the bench), stops it and removes its data directory.
func (s *testServer) close(ctx context.Context, logger *slog.Logger) {
	if !s.noDrain {
		if err := s.drain(ctx); err != nil {
			logger.WarnContext(ctx, "workers left after the bench", "error", err)
		}
	}
	s.closing.Store(true)
	s.stop()
	if err := <-s.done; err != nil {
		logger.WarnContext(ctx, "bench server stopped with an error", "error", err)
	}
	os.RemoveAll(s.dir)
}

// drain makes every tenant's workers expire at once and waits until none
// is live, at most a minute.
func (s *testServer) drain(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	tenants, err := s.admin.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	expire := "1ms"
	for _, t := range tenants {
		if _, err := s.admin.UpdateTenant(ctx, t.ID, api.UpdateTenantRequest{IdleTimeout: &expire}); err != nil {
			return fmt.Errorf("expire workers of tenant %s: %w", t.ID, err)
		}
	}
	for {
		ws, err := s.admin.AdminListWorkers(ctx)
		if err != nil {
			return fmt.Errorf("list workers: %w", err)
		}
		if !slices.ContainsFunc(ws, func(w api.Worker) bool { return slices.Contains(fleet.LiveStates, w.State) }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d workers still live: %w", len(ws), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tenant creates a tenant named name with one pool (the default) of
// image, and returns a client acting as it.
func (s *testServer) tenant(ctx context.Context, name, image string) (*client.Client, error) {
	t, err := s.admin.CreateTenant(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	c := client.New(s.URL(), t.APIKey, client.WithHTTPClient(s.hc))
	if _, err := c.CreatePool(ctx, api.CreatePoolRequest{Name: "bench", Image: image}); err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return c, nil
}

// runStep submits a one-step task and follows its log until it ends. It
// returns how long after the submission the first line containing mark
// arrived, and fails unless the task succeeded.
func runStep(ctx context.Context, c *client.Client, step api.StepRequest, mark string) (time.Duration, error) {
	start := time.Now()
	task, err := c.CreateTask(ctx, api.CreateTaskRequest{Name: "bench", Steps: []api.StepRequest{step}})
	if err != nil {
		return 0, fmt.Errorf("create task: %w", err)
	}
	var first time.Duration
	end, err := c.FollowLog(ctx, task.ID, func(l api.LogLine) {
		if first == 0 && containsMark(l, mark) {
			first = time.Since(start)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("follow task %s: %w", task.ID, err)
	}
	if end.State != api.StateSuccess {
		return 0, fmt.Errorf("task %s ended %s: %s", task.ID, end.State, end.Error)
	}
	if first == 0 && mark != "" {
		return 0, errors.New("the step's output never came")
	}
	return first, nil
}

// containsMark reports whether l is script output (info) holding mark.
func containsMark(l api.LogLine, mark string) bool {
	return mark != "" && l.Level == api.LevelInfo && l.Step != "" && strings.Contains(l.Message, mark)
}

// warnOnly passes on warnings and errors, until closing is set (when
// given); then nothing.
type warnOnly struct {
	slog.Handler
	closing *atomic.Bool
}

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && (h.closing == nil || !h.closing.Load()) && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(as []slog.Attr) slog.Handler {
	return warnOnly{Handler: h.Handler.WithAttrs(as), closing: h.closing}
}

func (h warnOnly) WithGroup(name string) slog.Handler {
	return warnOnly{Handler: h.Handler.WithGroup(name), closing: h.closing}
}

// errorOnly passes on errors only.
type errorOnly struct{ slog.Handler }

func (h errorOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}

func (h errorOnly) WithAttrs(as []slog.Attr) slog.Handler { return errorOnly{h.Handler.WithAttrs(as)} }
func (h errorOnly) WithGroup(name string) slog.Handler    { return errorOnly{h.Handler.WithGroup(name)} }
