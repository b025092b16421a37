package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/variable"
)

// errJobCanceled is the cause of a job stopped because the server canceled
// it; its text is the Error the job completes with.
var errJobCanceled = errors.New("canceled")

// stopTimeout bounds the completion report sent while the agent stops.
const stopTimeout = 10 * time.Second

// track counts job as running here from now on, so the next poll names
// it (see loop), and returns its context, which cancelJob cancels. A
// health check that runs now is stopped, its processes killed at once:
// steps go first (runJob starts the script once they are gone).
func (a *agent) track(ctx context.Context, job *api.Job) (context.Context, context.CancelCauseFunc) {
	jobCtx, cancel := context.WithCancelCause(ctx)
	a.mu.Lock()
	a.running[job.ID] = cancel
	if a.stopCheck != nil {
		a.stopCheck(errCheckPreempted)
	}
	a.mu.Unlock()
	return jobCtx, cancel
}

// runJob runs job, tracked (see track) with jobCtx and cancel, and
// reports its end. It returns an error only when the agent must stop: the
// worker is gone, or the server cannot be told. A job whose output the
// server refuses as too large (413) completes failed and the agent goes
// on.
func (a *agent) runJob(ctx context.Context, job *api.Job, jobCtx context.Context, cancel context.CancelCauseFunc) error {
	logger := a.logger.With("job_id", job.ID, "task_id", job.TaskID, "step", job.Step)
	logger.InfoContext(ctx, "job started", "syntax", job.Syntax)
	defer cancel(nil)
	defer func() {
		a.mu.Lock()
		delete(a.running, job.ID)
		a.mu.Unlock()
	}()

	up := &logUploader{client: a.client, jobID: job.ID, full: make(chan struct{}, 1)}
	scriptDone := make(chan struct{})
	upErr := make(chan error, 1)
	go func() { upErr <- up.run(ctx, scriptDone, cancel) }()
	// Sensitive values are masked before the output leaves the worker,
	// also where a value straddles a 64 KiB line cut.
	output := variable.NewFilter(variable.NewMasker(job.Masks...), up.add)
	a.waitCheckStopped(jobCtx)
	exitCode, runErr := a.runScript(jobCtx, job, output.Line)
	output.Flush()
	close(scriptDone)
	uploadErr := <-upErr

	req := api.CompleteRequest{ExitCode: exitCode}
	switch cause := context.Cause(jobCtx); {
	case errors.Is(uploadErr, errWorkerGone) || errors.Is(context.Cause(ctx), errWorkerGone):
		return uploadErr
	case ctx.Err() != nil:
		// The agent is stopping: say so, on a context of its own.
		stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancelStop()
		req = api.CompleteRequest{ExitCode: -1, Error: "the agent stopped"}
		return a.complete(stopCtx, logger, job.ID, req)
	case uploadErr != nil:
		req = api.CompleteRequest{ExitCode: -1, Error: uploadErr.Error()}
	case errors.Is(cause, errJobCanceled):
		req = api.CompleteRequest{ExitCode: -1, Error: errJobCanceled.Error()}
	case runErr != nil:
		req = api.CompleteRequest{ExitCode: -1, Error: runErr.Error()}
	}
	if err := a.complete(ctx, logger, job.ID, req); err != nil {
		return err
	}
	if errors.Is(uploadErr, errOutputRejected) {
		// The server refused this job's output as too large: the job
		// failed, the next one may well fit.
		return nil
	}
	// The server could not take the job's output: a bug, or a server
	// unreachable for longer than Config.ServerUnreachableTimeout; either
	// way the agent cannot go on.
	return uploadErr
}

// runScript runs job in a fresh directory under the work dir, removed
// afterwards: in its execution container when it has one.
func (a *agent) runScript(ctx context.Context, job *api.Job, out func(stream, line string)) (int, error) {
	dir, err := os.MkdirTemp(a.cfg.WorkDir, "job-*")
	if err != nil {
		return -1, fmt.Errorf("make job directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			a.logger.WarnContext(ctx, "remove job directory", "job_id", job.ID, "dir", dir, "error", err)
		}
	}()
	if job.Container != nil {
		return a.containers.Run(ctx, job, dir, out)
	}
	return a.runner.Run(ctx, job, dir, out)
}

// complete reports the end of a job. A 404 or 409 answer means the server
// already ended the job (canceled and closed it, or dropped it): borderline,
// but nothing is left to report, so it is logged and the agent goes on.
func (a *agent) complete(ctx context.Context, logger *slog.Logger, jobID string, req api.CompleteRequest) error {
	err := a.client.complete(ctx, jobID, req)
	switch {
	case err == nil:
		logger.InfoContext(ctx, "job completed", "exit_code", req.ExitCode, "job_error", req.Error)
		return nil
	case hasStatus(err, http.StatusNotFound, http.StatusConflict):
		logger.WarnContext(ctx, "server already ended the job", "error", err)
		return nil
	default:
		return gone(err, false)
	}
}
