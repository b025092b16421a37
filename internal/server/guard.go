package server

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
)

// errLimit is wrapped by every answer to a request over one of Limits.
var errLimit = errors.New("limit reached")

// guard wraps the routes with the limits that apply before and around
// any handler: the failed-authentication back-off per source (429 with
// Retry-After) and the body read timeout (408). Health and metrics stay
// open to every source. Loopback sources get no back-off: they run on
// the server's host, where the process provider's workers share one
// address (one stale agent must not lock out the others) and where a
// client could read the data directory anyway. The agent API gets none
// either: its secrets are 256-bit values the server made, hopeless to
// guess, while counting its failures would let one deleted machine that
// keeps restarting lock out every live agent and user behind the same
// address (found by review).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := sourceOf(r)
		backoff := !probe(r) && !loopback(source) && !strings.HasPrefix(r.URL.Path, "/agent/v1/")
		if backoff {
			if wait := s.authBackoff.wait(source); wait > 0 {
				s.writeRetry(w, r, wait, &publicError{http.StatusTooManyRequests, api.CodeRateLimited,
					fmt.Sprintf("too many failed authentications from %s (limit %d per %s); retry after %s",
						source, s.cfg.Limits.AuthFailures, s.cfg.Limits.AuthWindow, retryAfterSeconds(wait)), errLimit})
				return
			}
		}
		s.limitBodyRead(w, r)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if backoff && sw.status == http.StatusUnauthorized {
			s.authBackoff.failed(source)
		}
	})
}

// loopback reports whether source (an IP) is a loopback address.
func loopback(source string) bool {
	ip := net.ParseIP(source)
	return ip != nil && ip.IsLoopback()
}

// probe reports whether r is a health or metrics probe.
func probe(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// writeRetry answers err; when wait is positive (a 429) with a
// Retry-After header of wait rounded up to whole seconds.
func (s *Server) writeRetry(w http.ResponseWriter, r *http.Request, wait time.Duration, err error) {
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(retryAfterSeconds(wait)/time.Second), 10))
	}
	s.writeError(w, r, err)
}

// maxRetryAfter caps a Retry-After: a wait that never ends (an upload
// larger than the burst) is told to try again in an hour.
const maxRetryAfter = time.Hour

// retryAfterSeconds rounds wait up to whole seconds, at least 1, at most
// maxRetryAfter.
func retryAfterSeconds(wait time.Duration) time.Duration {
	if wait >= maxRetryAfter {
		return maxRetryAfter
	}
	return max(time.Second, time.Duration(math.Ceil(wait.Seconds()))*time.Second)
}

// limitBodyRead gives r's body Limits.BodyReadTimeout to arrive; the
// deadline is lifted once the body is read, so the handler may answer
// for as long as it needs (long-polls, log follows, execution
// containers). Artifact uploads, bounded by size instead, are exempt.
func (s *Server) limitBodyRead(w http.ResponseWriter, r *http.Request) {
	d := s.cfg.Limits.BodyReadTimeout
	if d <= 0 || r.Body == nil || r.Body == http.NoBody || artifactUpload(r) {
		return
	}
	rc := http.NewResponseController(w)
	// Deadlines are the network's, on the real clock: the fake clock
	// cannot move a socket's deadline.
	if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return // a ResponseWriter without deadlines (a test recorder)
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, limit: d}
}

func artifactUpload(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/agent/v1/jobs/") && strings.Contains(r.URL.Path, "/artifacts/")
}

// deadlineBody lifts the read deadline when its body ends, and turns a
// read that hit the deadline into a 408 *publicError.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	limit time.Duration
	done  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = &publicError{http.StatusRequestTimeout, api.CodeRequestTimeout,
			fmt.Sprintf("the request body did not arrive within the limit of %s", b.limit), errors.Join(errLimit, err)}
	default:
		if !b.done {
			b.done = true
			_ = b.rc.SetReadDeadline(time.Time{}) // the connection may be gone already
		}
	}
	return n, err
}

// statusWriter remembers the status its handler answered; it passes
// Flush and the ResponseController's methods through.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
