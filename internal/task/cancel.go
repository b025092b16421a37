package task

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// Cancel cancels task id of tenant tenantID: it is marked canceled at once,
// a step waiting for a worker stops waiting, and the agent of a running
// step is told to stop the script (at its next heartbeat or log upload).
// The task's FinishedAt is set once that step has stopped. Canceling an
// ended task changes nothing. ErrNotFound (wrapped) for an unknown or
// another tenant's task.
func (r *Runner) Cancel(ctx context.Context, tenantID, id string) (*store.Task, error) {
	t, err := r.store.TaskGet(ctx, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("cancel task: %w", err)
	}
	if terminal(t.State) {
		return t, nil
	}
	from := t.State
	t.State, t.Error = api.StateCanceled, "canceled by request"
	if err := r.store.TaskUpdate(ctx, t, from); errors.Is(err, store.ErrConflict) {
		return r.store.TaskGet(ctx, tenantID, id) // it ended or was canceled meanwhile
	} else if err != nil {
		return nil, fmt.Errorf("cancel task: %w", err)
	}
	r.log(ctx, t.ID, "", api.LevelWarning, "Task canceled by request")
	// Wakes the task's goroutine on whichever server runs it.
	r.hub.Notify("cancel/" + id)
	return t, nil
}

// interrupted handles a step whose task goroutine was canceled: by Stop
// (returns "" and leaves the step for the next start) or by Cancel. A
// canceled step on worker w gets CancelGrace for its agent to stop the
// script; a worker that does not is destroyed rather than reused. Stop
// during that wait also returns "", and the next start waits again.
func (r *Runner) interrupted(ctx context.Context, t *store.Task, s *store.Step, w *store.Worker) (string, error) {
	ctx = context.WithoutCancel(ctx)
	cur, err := r.store.TaskGet(ctx, "", t.ID)
	if err != nil {
		return "", fmt.Errorf("get task %s: %w", t.ID, err)
	}
	if cur.State != api.StateCanceled {
		return "", nil
	}
	if w != nil {
		r.hub.Notify("job/" + w.ID)
		stopped, err := r.awaitCanceled(ctx, s, w)
		if err != nil || stopped {
			return "", err
		}
	}
	if terminal(s.State) {
		return s.State, nil
	}
	now := r.cfg.Clock.Now()
	canceled := *s
	canceled.State, canceled.Error, canceled.FinishedAt = api.StateCanceled, "canceled by request", &now
	err = r.store.StepUpdate(ctx, &canceled, api.StateQueued, api.StateRunning)
	if errors.Is(err, store.ErrConflict) {
		cur, err := r.store.StepGet(ctx, s.ID) // ended meanwhile: keep its end
		if err != nil {
			return "", fmt.Errorf("get step %s: %w", s.ID, err)
		}
		return cur.State, nil
	}
	if err != nil {
		return "", fmt.Errorf("cancel step %s: %w", s.ID, err)
	}
	return api.StateCanceled, nil
}

// awaitCanceled waits for the agent of worker w to end canceled step s,
// then releases w; past CancelGrace it destroys w instead. It reports
// stopped when Stop ended the wait.
func (r *Runner) awaitCanceled(ctx context.Context, s *store.Step, w *store.Worker) (stopped bool, err error) {
	grace := r.cfg.Clock.NewTimer(r.cfg.CancelGrace)
	defer grace.Stop()
	for {
		ended := r.hub.Wait("step/" + s.ID)
		cur, err := r.store.StepGet(ctx, s.ID)
		if err != nil {
			return false, fmt.Errorf("get step %s: %w", s.ID, err)
		}
		if terminal(cur.State) {
			*s = *cur // Complete released the worker; a lost one needs none
			return false, nil
		}
		if cur.DispatchedAt == nil {
			// Take the hand-over ourselves, so no agent starts the script
			// after the worker is released.
			err := r.store.StepDispatch(ctx, s.ID, r.cfg.Clock.Now())
			if err == nil {
				r.release(ctx, w)
				return false, nil
			}
			if !errors.Is(err, store.ErrConflict) {
				return false, fmt.Errorf("hold back step %s: %w", s.ID, err)
			}
			continue // an agent took it just now: it learns of the cancel
		}
		select {
		case <-ended:
		case <-r.stopping:
			return true, nil
		case <-grace.Chan():
			r.log(ctx, s.TaskID, s.Name, api.LevelWarning,
				"Worker %s did not stop the canceled script within %s; destroying it", w.ID, r.cfg.CancelGrace)
			// Other steps of the tenant on the worker (a pool of capacity
			// > 1) end first and say why, rather than as "unresponsive"
			// when their runners' checks find it destroying (found by
			// review; the other order let a check win in CI). The
			// canceled step's lease keeps the worker busy until Discard.
			r.stepsLost(ctx, w, fmt.Sprintf("was destroyed: canceled step %q of task %s would not stop", s.Name, s.TaskID), s.ID)
			return false, r.fleet.Discard(ctx, w, api.DestroyUnresponsive)
		}
	}
}
