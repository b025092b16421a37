package agent

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/dynpool/dynpool/api"
)

// Log batching: pending lines are uploaded every logFlushInterval, or as
// soon as logBatchLines are waiting; one upload carries at most
// logBatchLines lines.
const (
	logFlushInterval = 200 * time.Millisecond
	logBatchLines    = 500
)

// logUploader collects a job's output lines and uploads them in order.
type logUploader struct {
	client *client
	jobID  string
	full   chan struct{} // signaled when a batch is full; capacity 1

	mu      sync.Mutex
	pending []api.AgentLogLine
}

// add queues one line; it is safe to call from several goroutines.
func (u *logUploader) add(stream, line string) {
	u.mu.Lock()
	u.pending = append(u.pending, api.AgentLogLine{Time: time.Now().UTC(), Stream: stream, Message: line})
	n := len(u.pending)
	u.mu.Unlock()
	if n >= logBatchLines {
		select {
		case u.full <- struct{}{}:
		default:
		}
	}
}

// run uploads queued lines until done is closed, then uploads what is
// left. When the server answers that the job was canceled, or an upload
// fails, it cancels the job through cancel. It returns the error that
// stopped the uploads; a 404 (the server dropped the job) is borderline:
// the job is canceled, the remaining lines are dropped, and run returns
// nil.
func (u *logUploader) run(ctx context.Context, done <-chan struct{}, cancel context.CancelCauseFunc) error {
	t := time.NewTicker(logFlushInterval)
	defer t.Stop()
	for {
		final := false
		select {
		case <-t.C:
		case <-u.full:
		case <-done:
			final = true
		}
		err := u.flush(ctx, cancel)
		switch {
		case hasStatus(err, http.StatusNotFound):
			cancel(errJobCanceled)
			return nil
		case err != nil:
			err = gone(err, false)
			cancel(err)
			return err
		case final:
			return nil
		}
	}
}

// flush uploads every queued line, logBatchLines at a time.
func (u *logUploader) flush(ctx context.Context, cancel context.CancelCauseFunc) error {
	for {
		u.mu.Lock()
		n := min(len(u.pending), logBatchLines)
		batch := u.pending[:n:n]
		u.pending = u.pending[n:]
		u.mu.Unlock()
		if n == 0 {
			return nil
		}
		canceled, err := u.client.uploadLog(ctx, u.jobID, batch)
		if err != nil {
			return err
		}
		if canceled {
			cancel(errJobCanceled)
		}
	}
}
