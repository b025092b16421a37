package task

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/notify"
	"github.com/dynpool/dynpool/internal/store"
)

// Runner runs every task of the server.
type Runner struct {
	cfg   Config
	store store.Store
	fleet *fleet.Fleet
	// hub wakes waiters: "job/<worker>" a job for a worker, "step/<id>" a
	// step ended, "log/<task>" lines appended or the task ended.
	hub *notify.Hub
	// provisioning maps a step id to the worker being made for it, while
	// its Acquire waits; see [Runner.Provisioning].
	provisioning sync.Map

	mu      sync.Mutex
	ctx     context.Context // base of task goroutines; nil until Start
	cancels map[string]context.CancelFunc
	wg      sync.WaitGroup
	// stopping is closed by Stop, to end waits that a task's own context
	// does not end (a canceled step waiting for its agent).
	stopping chan struct{}
	stopOnce sync.Once
}

// New returns a Runner. Hand its [Runner.WorkerLost] to the fleet as
// OnLost before starting either.
func New(cfg Config, st store.Store, fl *fleet.Fleet) *Runner {
	cfg.setDefaults()
	return &Runner{
		cfg: cfg, store: st, fleet: fl, hub: cfg.Hub,
		cancels: make(map[string]context.CancelFunc), stopping: make(chan struct{}),
	}
}

// Start takes over every unfinished task that no live runner holds
// (queued, running, or canceled with a step still running: after a
// restart, all of this server's; with several servers, those of one that
// died), then runs new tasks as they are submitted, until Stop. Every
// third of the lease period it renews its claims, takes over tasks whose
// runner stopped renewing, and releases busy workers no step has held for
// a lease period.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.ctx != nil {
		r.mu.Unlock()
		return errors.New("task runner already started")
	}
	r.ctx = context.WithoutCancel(ctx)
	r.mu.Unlock()
	suspects, err := r.idleBusyWorkers(ctx, nil)
	if err != nil {
		return err
	}
	if err := r.takeOver(ctx); err != nil {
		return err
	}
	r.wg.Add(3)
	go r.renew(r.ctx)
	go r.keep(r.ctx, suspects)
	go r.sweepArtifacts(r.ctx)
	return nil
}

// renew extends this runner's task leases every third of the lease
// period, on its own so that slow work elsewhere cannot delay it. When
// renewals have failed for a whole lease period, other servers may have
// taken the tasks over: the local task goroutines stop, so no task runs
// twice.
func (r *Runner) renew(ctx context.Context) {
	defer r.wg.Done()
	ticker := r.cfg.Clock.NewTicker(r.cfg.LeasePeriod / 3)
	defer ticker.Stop()
	lastOK := r.cfg.Clock.Now()
	for {
		select {
		case <-r.stopping:
			return
		case <-ticker.Chan():
		}
		now := r.cfg.Clock.Now()
		rctx, cancel := context.WithTimeout(ctx, r.cfg.LeasePeriod/3)
		_, err := r.store.TaskRenew(rctx, r.cfg.Owner, now.Add(r.cfg.LeasePeriod))
		cancel()
		if err == nil {
			lastOK = now
			continue
		}
		r.cfg.Logger.ErrorContext(ctx, "renew task leases", "owner", r.cfg.Owner, "error", err)
		if now.Sub(lastOK) >= r.cfg.LeasePeriod {
			r.cfg.Logger.ErrorContext(ctx, "task leases lapsed; stopping this server's tasks for another to take over", "owner", r.cfg.Owner)
			r.mu.Lock()
			for _, cancel := range r.cancels {
				cancel()
			}
			r.mu.Unlock()
		}
	}
}

// keep takes over orphaned tasks and releases stranded workers every
// third of the lease period, until Stop.
func (r *Runner) keep(ctx context.Context, suspects map[string]stranded) {
	defer r.wg.Done()
	ticker := r.cfg.Clock.NewTicker(r.cfg.LeasePeriod / 3)
	defer ticker.Stop()
	for {
		select {
		case <-r.stopping:
			return
		case <-ticker.Chan():
		}
		if err := r.takeOver(ctx); err != nil {
			r.cfg.Logger.ErrorContext(ctx, "take over tasks", "error", err)
		}
		var err error
		if suspects, err = r.idleBusyWorkers(ctx, suspects); err != nil {
			r.cfg.Logger.ErrorContext(ctx, "release stranded workers", "error", err)
		}
	}
}

// takeOver claims and runs the unfinished tasks that no live runner
// holds.
func (r *Runner) takeOver(ctx context.Context) error {
	tasks, err := r.store.TaskListUnfinished(ctx)
	if err != nil {
		return fmt.Errorf("list unfinished tasks: %w", err)
	}
	now := r.cfg.Clock.Now()
	for _, t := range tasks {
		select {
		case <-r.stopping:
			return nil
		default:
		}
		if r.running(t.ID) || (t.Owner != "" && t.Owner != r.cfg.Owner && t.OwnerUntil != nil && t.OwnerUntil.After(now)) {
			continue
		}
		err := r.store.TaskClaim(ctx, &store.TaskClaimParams{ID: t.ID, Owner: r.cfg.Owner, Until: now.Add(r.cfg.LeasePeriod), Now: now})
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			continue // another runner was quicker, or it finished
		}
		if err != nil {
			return fmt.Errorf("claim task %s: %w", t.ID, err)
		}
		r.cfg.Logger.InfoContext(ctx, "taking over task", "task_id", t.ID, "state", t.State, "previous_owner", t.Owner)
		r.start(t.ID)
	}
	return nil
}

// stranded is a busy worker seen holding more leases than running steps.
type stranded struct {
	since time.Time
	// spell tells one sighting of a stranded lease from another: the
	// worker's LastUsedAt (Release sets it when the worker goes idle),
	// its leases and its running steps. A worker of capacity > 1 that
	// never goes idle shows brief gaps between a step's end and its
	// release; as its steps come and go, each gap is a new spell, so only
	// a lease stranded while nothing changed for a lease period goes
	// (found by review).
	spell string
}

// idleBusyWorkers releases the leases of busy workers that no running
// step holds (a worker holds one lease a step): a server died between
// leasing one and recording it on its step, or between a step's end and
// the release. A lease is released only when it was found so, in the
// same busy spell, for a whole lease period: a live server closes those
// gaps within milliseconds. One lease goes per call and worker. It
// returns the workers found so, to pass to the next call.
func (r *Runner) idleBusyWorkers(ctx context.Context, seen map[string]stranded) (map[string]stranded, error) {
	busy, err := r.store.WorkerList(ctx, &store.WorkerListParams{States: []string{api.WorkerBusy}})
	if err != nil {
		return seen, fmt.Errorf("list busy workers: %w", err)
	}
	now := r.cfg.Clock.Now()
	found := make(map[string]stranded)
	for _, w := range busy {
		steps, err := r.store.StepListByWorker(ctx, w.ID, api.StateRunning)
		if err != nil {
			return seen, fmt.Errorf("list steps of worker %s: %w", w.ID, err)
		}
		if len(steps) >= w.Leases {
			continue
		}
		spell := stranded{since: now, spell: spellOf(w, steps)}
		if before, ok := seen[w.ID]; ok && before.spell == spell.spell {
			spell.since = before.since
		}
		if now.Sub(spell.since) < r.cfg.LeasePeriod {
			found[w.ID] = spell
			continue
		}
		r.cfg.Logger.InfoContext(ctx, "releasing a worker lease no step holds", "worker_id", w.ID, "tenant_id", w.TenantID,
			"leases", w.Leases, "running_steps", len(steps))
		r.release(ctx, w)
	}
	return found, nil
}

// spellOf names what a stranded sighting of w with its running steps saw
// (see stranded).
func spellOf(w *store.Worker, steps []*store.Step) string {
	var b strings.Builder
	if w.LastUsedAt != nil {
		b.WriteString(w.LastUsedAt.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, " %d", w.Leases)
	for _, s := range steps {
		b.WriteString(" " + s.ID)
	}
	return b.String()
}

// Stop cancels the task goroutines, waits for them, and gives up this
// runner's claims, so that the next start, or another server, takes the
// tasks over at once. Their state stays as it is in the store.
func (r *Runner) Stop() {
	r.stopOnce.Do(func() { close(r.stopping) })
	r.mu.Lock()
	for _, cancel := range r.cancels {
		cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	if err := r.store.TaskRelease(context.Background(), r.cfg.Owner); err != nil {
		r.cfg.Logger.Error("release task leases", "owner", r.cfg.Owner, "error", err)
	}
}

// running reports whether task id runs in this runner.
func (r *Runner) running(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.cancels[id]
	return ok
}

// start runs task id in its own goroutine, unless it runs already.
func (r *Runner) start(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil {
		return // not started: Start will resume it from the store
	}
	select {
	case <-r.stopping:
		return // stopping: the next start, or another server, takes it
	default:
	}
	if _, running := r.cancels[id]; running {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	r.cancels[id] = cancel
	// A cancel may arrive through any server: it is published under
	// "cancel/<task>" and ends this goroutine's waits wherever it runs.
	canceled := r.hub.Wait("cancel/" + id)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.cancels, id)
			r.mu.Unlock()
			cancel()
			r.hub.Forget("cancel/" + id)
		}()
		go func() {
			select {
			case <-canceled:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := r.runTask(ctx, id); err != nil && ctx.Err() == nil {
			r.cfg.Logger.ErrorContext(ctx, "task runner failed", "task_id", id, "error", err)
		}
	}()
}

// runTask runs the steps of task id that have not ended, in order.
func (r *Runner) runTask(ctx context.Context, id string) error {
	t, err := r.store.TaskGet(ctx, "", id)
	if err != nil {
		return fmt.Errorf("get task: %w", err)
	}
	if t.State == api.StateQueued {
		t.State = api.StateRunning
		err := r.store.TaskUpdate(ctx, t, api.StateQueued)
		if errors.Is(err, store.ErrConflict) {
			// Canceled before it started: its steps see that and end.
			t, err = r.store.TaskGet(ctx, "", id)
		}
		if err != nil {
			return fmt.Errorf("start task: %w", err)
		}
	}
	for _, s := range t.Steps {
		if !terminal(s.State) && !r.stillOwns(ctx, t.ID) {
			return nil // another runner took the task over
		}
		state, err := r.runStep(ctx, t, s)
		if err != nil || state == "" {
			return err // "": the server is stopping; the next start resumes the task
		}
		if state != api.StateSuccess {
			return r.finish(ctx, t, state, s)
		}
	}
	return r.finish(ctx, t, api.StateSuccess, nil)
}

// stillOwns renews this runner's claim on task id before a step runs, so
// a task another server took over (this one missed its renewals) is not
// run twice.
func (r *Runner) stillOwns(ctx context.Context, id string) bool {
	now := r.cfg.Clock.Now()
	err := r.store.TaskClaim(ctx, &store.TaskClaimParams{ID: id, Owner: r.cfg.Owner, Until: now.Add(r.cfg.LeasePeriod), Now: now})
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "task no longer ours", "task_id", id, "owner", r.cfg.Owner, "error", err)
		return false
	}
	return true
}

// finish records the task's end: failed and canceled tasks skip the steps
// after the one that ended them. A task canceled by request stays
// canceled whatever its last step did (the state is written only from
// running, so a concurrent Cancel is never overwritten).
func (r *Runner) finish(ctx context.Context, t *store.Task, state string, last *store.Step) error {
	ctx = context.WithoutCancel(ctx) // a canceled task still records its end
	for _, s := range t.Steps {
		if s.State == api.StateQueued {
			s.State = api.StateSkipped
			if err := r.store.StepUpdate(ctx, s); err != nil {
				return fmt.Errorf("skip step %s: %w", s.ID, err)
			}
		}
	}
	cur, err := r.store.TaskGet(ctx, "", t.ID)
	if err != nil {
		return fmt.Errorf("get task: %w", err)
	}
	from := cur.State // running, or canceled: then it stays canceled
	now := r.cfg.Clock.Now()
	t.FinishedAt = &now
	switch {
	case from == api.StateCanceled:
		state, t.Error = api.StateCanceled, cur.Error
	case state == api.StateFailed && last != nil:
		t.Error = fmt.Sprintf("step %q failed: %s", last.Name, last.Error)
	}
	t.State = state
	// The last line comes before finished_at, so a follower that sees the
	// task finished has every line of it.
	level := api.LevelInfo
	if state != api.StateSuccess {
		level = api.LevelError
	}
	r.log(ctx, t.ID, "", level, "Task %s", state)
	err = r.store.TaskUpdate(ctx, t, from)
	if errors.Is(err, store.ErrConflict) {
		// Canceled in the instant since we read it: it ends canceled.
		if cur, err = r.store.TaskGet(ctx, "", t.ID); err != nil {
			return fmt.Errorf("get task: %w", err)
		}
		t.State, t.Error = cur.State, cur.Error
		r.log(ctx, t.ID, "", api.LevelError, "Task %s", t.State)
		err = r.store.TaskUpdate(ctx, t, cur.State)
	}
	if err != nil {
		return fmt.Errorf("finish task: %w", err)
	}
	r.hub.Notify("log/" + t.ID)
	return nil
}

// log appends one line to a task log and wakes its followers. The log is
// best effort: a failed write is reported to the server log, not to the
// step.
func (r *Runner) log(ctx context.Context, taskID, step, level, format string, args ...any) {
	line := store.LogLine{Time: r.cfg.Clock.Now(), Level: level, Step: step, Message: store.Printable(fmt.Sprintf(format, args...))}
	if err := r.store.LogAppend(context.WithoutCancel(ctx), taskID, []store.LogLine{line}); err != nil {
		r.cfg.Logger.ErrorContext(ctx, "append task log", "task_id", taskID, "error", err)
	}
	r.hub.Notify("log/" + taskID)
}

// Provisioning returns the id of the worker being created for step id,
// or "" when none is. It is known only to the server running the step.
func (r *Runner) Provisioning(stepID string) string {
	w, _ := r.provisioning.Load(stepID)
	id, _ := w.(string)
	return id
}

// WaitLog returns a channel closed when task id's log grows or the task
// ends. Take it before reading the log.
func (r *Runner) WaitLog(id string) <-chan struct{} { return r.hub.Wait("log/" + id) }
