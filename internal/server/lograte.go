package server

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/dynpool/dynpool/api"
)

// logRate holds a token bucket of log lines per worker (Limits.
// LogLinesPerSecond, Limits.LogLineBurst), read with the server's clock.
type logRate struct {
	every rate.Limit
	burst int
	clock clockwork.Clock

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLogRate(l Limits, clock clockwork.Clock) *logRate {
	return &logRate{every: rate.Limit(l.LogLinesPerSecond), burst: l.LogLineBurst, clock: clock,
		buckets: make(map[string]*rate.Limiter)}
}

// maxLogBuckets bounds the buckets kept; past it, full ones (of workers
// quiet long enough to have refilled, or gone) are dropped.
const maxLogBuckets = 10_000

// take takes n lines from workerID's bucket: 0 when they fit, else how
// long until they would (nothing is taken then).
func (lr *logRate) take(workerID string, n int) time.Duration {
	if lr == nil || lr.every <= 0 || n == 0 {
		return 0
	}
	now := lr.clock.Now()
	lr.mu.Lock()
	defer lr.mu.Unlock()
	b, ok := lr.buckets[workerID]
	if !ok {
		if len(lr.buckets) >= maxLogBuckets {
			lr.sweep(now)
		}
		b = rate.NewLimiter(lr.every, lr.burst)
		lr.buckets[workerID] = b
	}
	res := b.ReserveN(now, n)
	if !res.OK() {
		return time.Duration(math.MaxInt64) // more than the burst: never
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// sweep drops the buckets that are full again at now.
func (lr *logRate) sweep(now time.Time) {
	for k, b := range lr.buckets {
		if b.TokensAt(now) >= float64(lr.burst) {
			delete(lr.buckets, k)
		}
	}
}

// checkLogUpload applies the log limits to an upload of lines by
// workerID: 413 for a line longer than LogLineBytes or more lines than
// LogLinesPerUpload, 429 (with its wait) when the worker's bucket lacks
// the lines. The error is a *publicError; retryAfter is set with 429.
func (s *Server) checkLogUpload(workerID string, lines []api.AgentLogLine) (retryAfter time.Duration, err error) {
	l := s.cfg.Limits
	if l.LogLinesPerUpload > 0 && len(lines) > l.LogLinesPerUpload {
		return 0, &publicError{http.StatusRequestEntityTooLarge, api.CodeTooLarge,
			fmt.Sprintf("the upload has %d lines, more than the limit of %d per upload", len(lines), l.LogLinesPerUpload), errLimit}
	}
	for i, line := range lines {
		if l.LogLineBytes > 0 && len(line.Message) > l.LogLineBytes {
			return 0, &publicError{http.StatusRequestEntityTooLarge, api.CodeTooLarge,
				fmt.Sprintf("line %d is %d bytes, more than the limit of %d bytes per line", i, len(line.Message), l.LogLineBytes), errLimit}
		}
	}
	if wait := s.logRate.take(workerID, len(lines)); wait > 0 {
		return wait, &publicError{http.StatusTooManyRequests, api.CodeRateLimited,
			fmt.Sprintf("this worker uploads log lines faster than the limit of %g lines a second (burst %d); retry after %s",
				l.LogLinesPerSecond, l.LogLineBurst, retryAfterSeconds(wait).String()), errLimit}
	}
	return 0, nil
}
