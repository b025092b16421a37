package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dynpool/dynpool/api"
)

// Log batching: pending lines are uploaded every logFlushInterval, or as
// soon as a batch is full. A line that finds nothing pending when the last
// upload is logFlushInterval old or more (the job's first line, the first
// after a quiet spell) is uploaded at once, so a step's first output does
// not wait for the tick; lines that follow it batch as before. One upload
// carries at most logBatchLines lines and at most logBatchBytes bytes of
// messages.
const (
	logFlushInterval = 200 * time.Millisecond
	logBatchLines    = 500
	// logBatchBytes bounds the messages of one upload, counted as JSON
	// encodes them (escaping can make a message up to six times longer: a
	// control byte becomes \u00XX). The server takes request bodies of at
	// most 2 MiB and answers 413 to bigger ones; 512 KiB of messages plus
	// the framing of 500 lines stays well below that, and one line (at
	// most maxLine = 64 KiB, 384 KiB encoded) always fits in a batch.
	logBatchBytes = 512 * 1024
)

// errOutputRejected is the cause of a job whose output the server refused
// to take (413: the upload is bigger than the server accepts); its text
// starts the Error the job completes with.
var errOutputRejected = errors.New("the output could not be uploaded")

// logUploader collects a job's output lines and uploads them in order.
type logUploader struct {
	client *client
	jobID  string
	// full is signaled when a batch is full or a line should go at once;
	// capacity 1.
	full chan struct{}

	mu           sync.Mutex
	pending      []pendingLine
	pendingBytes int       // sum of the pending lines' sizes
	lastUpload   time.Time // when the last batch was taken; zero before the first
}

// pendingLine is a queued line with the size its message counts against
// logBatchBytes.
type pendingLine struct {
	line api.AgentLogLine
	size int
}

// messageSize is the length of message as JSON encodes it, quotes
// included.
func messageSize(message string) int {
	b, err := json.Marshal(message)
	if err != nil { // cannot happen for a string; count the worst case
		return 6*len(message) + 2
	}
	return len(b)
}

// add queues one line; it is safe to call from several goroutines.
func (u *logUploader) add(stream, line string) {
	size := messageSize(line)
	now := time.Now()
	u.mu.Lock()
	quiet := len(u.pending) == 0 && now.Sub(u.lastUpload) >= logFlushInterval
	u.pending = append(u.pending, pendingLine{
		line: api.AgentLogLine{Time: now.UTC(), Stream: stream, Message: line},
		size: size,
	})
	u.pendingBytes += size
	full := quiet || len(u.pending) >= logBatchLines || u.pendingBytes >= logBatchBytes
	u.mu.Unlock()
	if full {
		select {
		case u.full <- struct{}{}:
		default:
		}
	}
}

// next takes the next batch off the queue: the oldest lines, at most
// logBatchLines of them and at most logBatchBytes of messages, but at
// least one line when any is queued.
func (u *logUploader) next() []api.AgentLogLine {
	u.mu.Lock()
	defer u.mu.Unlock()
	var batch []api.AgentLogLine
	bytes := 0
	for _, p := range u.pending {
		if len(batch) == logBatchLines || (len(batch) > 0 && bytes+p.size > logBatchBytes) {
			break
		}
		batch = append(batch, p.line)
		bytes += p.size
	}
	u.pending = u.pending[len(batch):]
	u.pendingBytes -= bytes
	if len(batch) > 0 {
		u.lastUpload = time.Now()
	}
	return batch
}

// run uploads queued lines until done is closed, then uploads what is
// left. When the server answers that the job was canceled, or an upload
// fails, it cancels the job through cancel. It returns the error that
// stopped the uploads. Two answers are borderline: a 404 (the server
// dropped the job) cancels the job, drops the remaining lines and returns
// nil; a 413 (an upload too big for the server, which the byte bound
// should prevent) returns errOutputRejected: a bug the job pays for, not
// the whole agent.
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
		case hasStatus(err, http.StatusRequestEntityTooLarge):
			err = fmt.Errorf("%w: %w", errOutputRejected, err)
			cancel(err)
			return err
		case err != nil:
			err = gone(err, false)
			cancel(err)
			return err
		case final:
			return nil
		}
	}
}

// flush uploads every queued line, one batch at a time.
func (u *logUploader) flush(ctx context.Context, cancel context.CancelCauseFunc) error {
	for {
		batch := u.next()
		if len(batch) == 0 {
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
