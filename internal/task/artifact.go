package task

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// Artifact defaults.
const (
	// DefaultArtifactMaxFileBytes bounds one artifact: 100 MiB.
	DefaultArtifactMaxFileBytes = 100 << 20
	// DefaultArtifactMaxTaskBytes bounds the artifacts of one task
	// together: 500 MiB.
	DefaultArtifactMaxTaskBytes = 500 << 20
	// DefaultArtifactRetention is how long artifacts are kept after their
	// task finished: 30 days. (Tasks themselves are kept for good.)
	DefaultArtifactRetention = 30 * 24 * time.Hour
	// DefaultArtifactSweepPeriod is how often expired artifacts, and
	// uploads abandoned for a day, are deleted.
	DefaultArtifactSweepPeriod = time.Hour
	// artifactChunkSize is the size of the chunks an artifact is stored in.
	artifactChunkSize = 1 << 20
	// abandonedUpload is how old an upload that never completed (its
	// server died) gets before the sweep deletes it.
	abandonedUpload = 24 * time.Hour
)

// ArtifactLimits bounds artifacts; zero fields take the defaults.
type ArtifactLimits struct {
	MaxFileBytes int64
	MaxTaskBytes int64
	Retention    time.Duration
	SweepPeriod  time.Duration
}

func (l *ArtifactLimits) setDefaults() {
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = DefaultArtifactMaxFileBytes
	}
	if l.MaxTaskBytes == 0 {
		l.MaxTaskBytes = DefaultArtifactMaxTaskBytes
	}
	if l.Retention == 0 {
		l.Retention = DefaultArtifactRetention
	}
	if l.SweepPeriod == 0 {
		l.SweepPeriod = DefaultArtifactSweepPeriod
	}
}

// ErrTooLarge is wrapped by the error of an artifact upload over a size
// limit (HTTP 413). Nothing of the upload is kept, and what the task had
// stored before stays as it was.
var ErrTooLarge = errors.New("too large")

// ErrJobCredential is wrapped when a job credential is wrong, or its job
// no longer runs on its worker (HTTP 401).
var ErrJobCredential = errors.New("invalid job credential")

var artifactName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$`)

// checkArtifactName refuses names that are not plain file names.
func checkArtifactName(name string) error {
	if !artifactName.MatchString(name) {
		return validation.Errorf("name", "%q is not an artifact name: 1 to 200 letters, digits, '.', '_' and '-', not starting with '.' or '-'", name)
	}
	return nil
}

// JobStep authenticates a job's credential: it returns the step jobID and
// its task when credential is that job's and the job runs on its worker.
// Any other case wraps ErrJobCredential.
func (r *Runner) JobStep(ctx context.Context, jobID, credential string) (*store.Step, *store.Task, error) {
	s, err := r.store.StepGet(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: no job %s", ErrJobCredential, jobID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get job %s: %w", jobID, err)
	}
	if s.WorkerID == "" || !r.cfg.Secrets.Verify(credential, "dpj", "job", s.ID+"/"+s.WorkerID) {
		return nil, nil, fmt.Errorf("%w: the credential is not job %s's", ErrJobCredential, jobID)
	}
	if s.State != api.StateRunning {
		return nil, nil, fmt.Errorf("%w: job %s has ended (%s)", ErrJobCredential, jobID, s.State)
	}
	if gone, err := r.workerGone(ctx, s.WorkerID); err != nil {
		return nil, nil, err
	} else if gone != "" {
		return nil, nil, fmt.Errorf("%w: %s", ErrJobCredential, gone)
	}
	t, err := r.store.TaskGet(ctx, "", s.TaskID)
	if err != nil {
		return nil, nil, fmt.Errorf("get task of job %s: %w", jobID, err)
	}
	return s, t, nil
}

// PutArtifact stores body as artifact name of step s's task, replacing an
// earlier one of that name once the whole body is stored. size is the
// declared length (-1 when unknown), checked before anything is read.
// Over a limit it returns an error wrapping ErrTooLarge and keeps nothing
// of this upload.
func (r *Runner) PutArtifact(ctx context.Context, t *store.Task, s *store.Step, name string, size int64, body io.Reader) (*api.Artifact, error) {
	if err := checkArtifactName(name); err != nil {
		return nil, err
	}
	lim := r.cfg.Artifacts
	if size > lim.MaxFileBytes {
		return nil, r.tooLargeFile(name, size)
	}
	if size > 0 {
		if err := r.checkTaskRoom(ctx, t.ID, name, size); err != nil {
			return nil, err
		}
	}
	a := &store.Artifact{ID: id.New("art"), TaskID: t.ID, StepID: s.ID, Name: name, CreatedAt: r.cfg.Clock.Now()}
	if err := r.store.ArtifactBegin(ctx, a); err != nil {
		return nil, fmt.Errorf("store artifact %s: %w", name, err)
	}
	committed := false
	defer func() {
		if !committed {
			if err := r.store.ArtifactAbort(context.WithoutCancel(ctx), a.ID); err != nil {
				r.cfg.Logger.ErrorContext(ctx, "abort artifact upload", "task_id", t.ID, "artifact", name, "error", err)
			}
		}
	}()
	sum := sha256.New()
	var total int64
	buf := make([]byte, artifactChunkSize)
	for index := 0; ; index++ {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			total += int64(n)
			if total > lim.MaxFileBytes {
				return nil, r.tooLargeFile(name, total)
			}
			sum.Write(buf[:n])
			if err := r.store.ArtifactChunkPut(ctx, a.ID, index, buf[:n]); err != nil {
				return nil, fmt.Errorf("store artifact %s: %w", name, err)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read artifact %s: %w", name, err)
		}
	}
	stored, err := r.store.ArtifactCommit(ctx, &store.ArtifactCommitParams{
		ID: a.ID, Size: total, SHA256: hex.EncodeToString(sum.Sum(nil)), MaxTaskBytes: lim.MaxTaskBytes})
	if errors.Is(err, store.ErrTooLarge) {
		return nil, r.tooLargeTask(name, total)
	}
	if err != nil {
		return nil, fmt.Errorf("store artifact %s: %w", name, err)
	}
	committed = true
	r.log(ctx, t.ID, s.Name, api.LevelInfo, "Artifact %s stored (%d bytes, sha256 %s)", name, stored.Size, stored.SHA256)
	out := artifactAPI(stored, s.Name)
	return &out, nil
}

// checkTaskRoom fails early when size more bytes under name would put the
// task over its artifact limit.
func (r *Runner) checkTaskRoom(ctx context.Context, taskID, name string, size int64) error {
	list, err := r.store.ArtifactList(ctx, taskID)
	if err != nil {
		return fmt.Errorf("list artifacts of task %s: %w", taskID, err)
	}
	var used int64
	for _, a := range list {
		if a.Name != name {
			used += a.Size
		}
	}
	if used+size > r.cfg.Artifacts.MaxTaskBytes {
		return r.tooLargeTask(name, size)
	}
	return nil
}

func (r *Runner) tooLargeFile(name string, size int64) error {
	return fmt.Errorf("%w: artifact %s is %d bytes or more, over the limit of %d bytes per artifact; nothing of it was stored, and the task's other artifacts are unchanged",
		ErrTooLarge, name, size, r.cfg.Artifacts.MaxFileBytes)
}

func (r *Runner) tooLargeTask(name string, size int64) error {
	return fmt.Errorf("%w: artifact %s (%d bytes) would put the task's artifacts over the limit of %d bytes per task; nothing of it was stored, and the task's other artifacts are unchanged",
		ErrTooLarge, name, size, r.cfg.Artifacts.MaxTaskBytes)
}

// Artifacts lists the artifacts of task t.
func (r *Runner) Artifacts(ctx context.Context, t *store.Task) ([]api.Artifact, error) {
	list, err := r.store.ArtifactList(ctx, t.ID)
	if err != nil {
		return nil, fmt.Errorf("list artifacts of task %s: %w", t.ID, err)
	}
	out := []api.Artifact{}
	for _, a := range list {
		out = append(out, artifactAPI(a, stepName(t, a.StepID)))
	}
	return out, nil
}

// OpenArtifact returns artifact name of task t and a reader of its
// content; store.ErrNotFound (wrapped) when there is none.
func (r *Runner) OpenArtifact(ctx context.Context, t *store.Task, name string) (*api.Artifact, io.Reader, error) {
	a, err := r.store.ArtifactGet(ctx, t.ID, name)
	if err != nil {
		return nil, nil, err
	}
	out := artifactAPI(a, stepName(t, a.StepID))
	return &out, &chunkReader{ctx: ctx, st: r.store, id: a.ID}, nil
}

// chunkReader reads an artifact's chunks in order.
type chunkReader struct {
	ctx   context.Context // the request's: a reader lives within it
	st    store.Store
	id    string
	index int
	buf   []byte
	done  bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		data, err := c.st.ArtifactChunk(c.ctx, c.id, c.index)
		if errors.Is(err, store.ErrNotFound) {
			c.done = true
			continue
		}
		if err != nil {
			return 0, err
		}
		c.index++
		c.buf = data
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func stepName(t *store.Task, stepID string) string {
	for _, s := range t.Steps {
		if s.ID == stepID {
			return s.Name
		}
	}
	return ""
}

func artifactAPI(a *store.Artifact, step string) api.Artifact {
	return api.Artifact{Name: a.Name, Size: a.Size, SHA256: a.SHA256, Step: step, CreatedAt: a.CreatedAt}
}

// sweepArtifacts deletes artifacts past their retention every sweep
// period, until Stop. Every replica may run it: a delete is idempotent.
func (r *Runner) sweepArtifacts(ctx context.Context) {
	defer r.wg.Done()
	ticker := r.cfg.Clock.NewTicker(r.cfg.Artifacts.SweepPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-r.stopping:
			return
		case <-ticker.Chan():
		}
		r.SweepArtifacts(ctx)
	}
}

// SweepArtifacts deletes the artifacts of tasks that finished more than
// the retention ago, and uploads abandoned for a day; a failure is
// logged.
func (r *Runner) SweepArtifacts(ctx context.Context) {
	now := r.cfg.Clock.Now()
	n, err := r.store.ArtifactDeleteExpired(ctx, &store.ArtifactDeleteParams{
		FinishedBefore: now.Add(-r.cfg.Artifacts.Retention), PendingBefore: now.Add(-abandonedUpload)})
	if err != nil {
		r.cfg.Logger.ErrorContext(ctx, "delete expired artifacts", "error", err)
		return
	}
	if n > 0 {
		r.cfg.Logger.InfoContext(ctx, "deleted expired artifacts", "count", n, "retention", r.cfg.Artifacts.Retention.String())
	}
}
