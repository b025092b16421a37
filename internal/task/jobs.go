package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/secret"
	"github.com/dynpool/dynpool/internal/store"
)

// ErrJobNotFound is returned to an agent asking about a job that is not
// running on its worker (another worker's job, or one that ended).
var ErrJobNotFound = errors.New("job not found")

// NextJob returns a step leased to worker w that its agent does not run
// (running lists the jobs it runs), marking it taken, or nil after wait
// when there is none.
func (r *Runner) NextJob(ctx context.Context, w *store.Worker, wait time.Duration, running []string) (*api.Job, error) {
	timer := r.cfg.Clock.NewTimer(wait)
	defer timer.Stop()
	// Only this worker's agent polls here: when it stops (its worker was
	// destroyed) nobody notifies the key again, so drop it on the way out.
	defer r.hub.Forget("job/" + w.ID)
	for {
		queued := r.hub.Wait("job/" + w.ID)
		job, err := r.takeJob(ctx, w, running)
		if job != nil || err != nil {
			return job, err
		}
		select {
		case <-queued:
		case <-timer.Chan():
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
}

func (r *Runner) takeJob(ctx context.Context, w *store.Worker, running []string) (*api.Job, error) {
	steps, err := r.store.StepListByWorker(ctx, w.ID, api.StateRunning)
	if err != nil {
		return nil, fmt.Errorf("list steps of worker %s: %w", w.ID, err)
	}
	for _, s := range steps {
		t, err := r.store.TaskGet(ctx, "", s.TaskID)
		if err != nil {
			return nil, fmt.Errorf("get task of step %s: %w", s.ID, err)
		}
		if t.State == api.StateCanceled || slices.Contains(running, s.ID) {
			continue
		}
		if s.DispatchedAt != nil {
			// Handed, yet not among the jobs the agent says it runs: the
			// answer that handed it was lost, so hand it again rather
			// than leave the step running.
			r.log(ctx, s.TaskID, s.Name, api.LevelVerbose, "Worker %s asked again for the step it was handed; handing it again", w.ID)
		} else {
			err := r.store.StepDispatch(ctx, s.ID, r.cfg.Clock.Now())
			if errors.Is(err, store.ErrConflict) {
				continue // canceled or taken meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("dispatch step %s: %w", s.ID, err)
			}
			r.log(ctx, s.TaskID, s.Name, api.LevelVerbose, "Worker %s started the step", w.ID)
		}
		job := &api.Job{ID: s.ID, TaskID: s.TaskID, Step: s.Name, Syntax: s.Syntax, Script: s.Script, Env: r.toolEnv(w)}
		if err := r.prepareJob(ctx, s, w, job); errors.Is(err, secret.ErrOpen) {
			// The key changed since the task was created: asking again
			// will not help, so the step fails saying why.
			if err := r.failStep(ctx, s, err.Error()); err != nil {
				return nil, err
			}
			r.release(ctx, w)
			continue
		} else if err != nil {
			return nil, err
		}
		if s.ContainerImage != "" {
			job.Container = &api.Container{Image: s.ContainerImage}
		}
		return job, nil
	}
	return nil, nil
}

// toolEnv returns the DYNPOOL_TOOL_<NAME>_<VERSION>_PATH variables of the
// worker's image, from its tool manifest's path templates.
func (r *Runner) toolEnv(w *store.Worker) map[string]string {
	img, ok := r.cfg.Catalog().Image(w.Image)
	if !ok {
		return nil // the image left the catalog since the worker was made
	}
	return img.ToolPathEnv()
}

// runningJob returns step jobID if it is running on worker w.
func (r *Runner) runningJob(ctx context.Context, w *store.Worker, jobID string) (*store.Step, *store.Task, error) {
	s, err := r.store.StepGet(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (s.WorkerID != w.ID || s.State != api.StateRunning)) {
		return nil, nil, fmt.Errorf("job %s of worker %s: %w", jobID, w.ID, ErrJobNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get job %s: %w", jobID, err)
	}
	t, err := r.store.TaskGet(ctx, "", s.TaskID)
	if err != nil {
		return nil, nil, fmt.Errorf("get task of job %s: %w", jobID, err)
	}
	return s, t, nil
}

// AppendOutput adds script output of job jobID to the task log: stdout as
// info, stderr as warning. It reports whether the task was canceled, so
// the agent stops the script.
func (r *Runner) AppendOutput(ctx context.Context, w *store.Worker, jobID string, lines []api.AgentLogLine) (canceled bool, err error) {
	s, t, err := r.runningJob(ctx, w, jobID)
	if err != nil {
		return false, err
	}
	if err := r.appendLines(ctx, t, s, lines); err != nil {
		return false, err
	}
	return t.State == api.StateCanceled, nil
}

// appendLines adds output lines of step s to its task's log: stdout as
// info, stderr as warning, with the task's sensitive values masked and
// service messages read (the one path of agent and container output).
func (r *Runner) appendLines(ctx context.Context, t *store.Task, s *store.Step, lines []api.AgentLogLine) error {
	if len(lines) == 0 {
		return nil
	}
	// Service messages set output variables; sensitive values are masked
	// (see outputLines).
	out, err := r.outputLines(ctx, t, s, lines)
	if err != nil {
		return fmt.Errorf("append output of job %s: %w", s.ID, err)
	}
	if err := r.store.LogAppend(ctx, t.ID, out); err != nil {
		return fmt.Errorf("append output of job %s: %w", s.ID, err)
	}
	r.hub.Notify("log/" + t.ID)
	return nil
}

// Complete records the end of job jobID on worker w.
func (r *Runner) Complete(ctx context.Context, w *store.Worker, jobID string, req *api.CompleteRequest) error {
	s, t, err := r.runningJob(ctx, w, jobID)
	if err != nil {
		return err
	}
	now := r.cfg.Clock.Now()
	code := req.ExitCode
	s.ExitCode, s.FinishedAt = &code, &now
	level, took := api.LevelInfo, ""
	if s.DispatchedAt != nil {
		took = " in " + now.Sub(*s.DispatchedAt).Round(time.Millisecond).String()
	}
	switch {
	case t.State == api.StateCanceled:
		s.State, s.Error, level = api.StateCanceled, "canceled by request", api.LevelWarning
	case req.Error != "":
		s.State, s.Error, level = api.StateFailed, req.Error, api.LevelError
	case code != 0:
		s.State, s.Error, level = api.StateFailed, fmt.Sprintf("the script exited with code %d", code), api.LevelError
	default:
		s.State = api.StateSuccess
	}
	if err := r.store.StepUpdate(ctx, s, api.StateRunning); errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("job %s of worker %s ended meanwhile: %w", jobID, w.ID, ErrJobNotFound)
	} else if err != nil {
		return fmt.Errorf("complete job %s: %w", jobID, err)
	}
	if s.State == api.StateSuccess {
		r.log(ctx, t.ID, s.Name, level, "Step %q succeeded%s on worker %s", s.Name, took, w.ID)
	} else {
		r.log(ctx, t.ID, s.Name, level, "Step %q %s%s on worker %s: %s", s.Name, s.State, took, w.ID, s.Error)
	}
	// The worker is handed back here, in the same request, rather than by
	// the goroutine awaiting the step (perhaps on another replica), so it is
	// busy with no step for a few milliseconds only.
	r.release(ctx, w)
	r.hub.Notify("step/" + s.ID)
	return nil
}

// CancelJobs lists the jobs worker w's agent must stop: those running
// on w whose task was canceled, and those of running (the job ids the
// agent says it runs) that are no longer a running step of w — failed
// when w was found unavailable or lost, canceled, or unknown. Without the
// second kind an agent whose silent script the server had failed would
// run it on, unseen, and take the next step beside it.
func (r *Runner) CancelJobs(ctx context.Context, w *store.Worker, running []string) ([]string, error) {
	steps, err := r.store.StepListByWorker(ctx, w.ID, api.StateRunning)
	if err != nil {
		return nil, fmt.Errorf("list steps of worker %s: %w", w.ID, err)
	}
	var ids []string
	current := make(map[string]bool, len(steps))
	for _, s := range steps {
		current[s.ID] = true
		t, err := r.store.TaskGet(ctx, "", s.TaskID)
		if err != nil {
			return nil, fmt.Errorf("get task of step %s: %w", s.ID, err)
		}
		if t.State == api.StateCanceled && s.DispatchedAt != nil {
			ids = append(ids, s.ID)
		}
	}
	for _, id := range running {
		if !current[id] && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// WorkerLost is the fleet's OnLost: it wakes the steps of a lost worker,
// whose runner then fails them (an agent had taken them) or gets them
// another worker (none had).
func (r *Runner) WorkerLost(w *store.Worker, reason string) {
	r.stepsLost(context.Background(), w, reason, "")
}

// stepsLost does WorkerLost's work for the running steps of worker w but
// step except ("" for none).
func (r *Runner) stepsLost(ctx context.Context, w *store.Worker, reason, except string) {
	ctx = context.WithoutCancel(ctx)
	steps, err := r.store.StepListByWorker(ctx, w.ID, api.StateRunning)
	if err != nil {
		r.cfg.Logger.ErrorContext(ctx, "list steps of lost worker", "worker_id", w.ID, "error", err)
		return
	}
	for _, s := range steps {
		if s.ID == except {
			continue
		}
		if s.DispatchedAt == nil {
			r.hub.Notify("step/" + s.ID)
			continue
		}
		if err := r.failStep(ctx, s, fmt.Sprintf("worker lost: worker %s %s", w.ID, reason)); err != nil {
			r.cfg.Logger.ErrorContext(ctx, "fail step of lost worker", "step_id", s.ID, "error", err)
		}
	}
}
