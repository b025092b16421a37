package agent

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newTestClient returns a client of srvURL with a 1 ms backoff and calls
// retried for at most giveUpAfter.
func newTestClient(t *testing.T, srvURL string, giveUpAfter time.Duration) *client {
	return &client{
		base:         srvURL,
		http:         &http.Client{},
		token:        "t",
		giveUpAfter:  giveUpAfter,
		firstBackoff: time.Millisecond,
		maxBackoff:   time.Millisecond,
		logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
}

// failingServer answers status to the first failures calls and 204 to the
// rest; it returns its URL and the count of calls it saw.
func failingServer(t *testing.T, status, failures int) (string, *atomic.Int64) {
	var calls atomic.Int64
	url := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= int64(failures) {
			writeError(w, status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return url, &calls
}

func TestCallRetriesRetryableFailuresUntilTheTimeoutNotACount(t *testing.T) {
	t.Parallel()
	// Far more failures than the 8 retries the agent used to allow: a
	// server restart is ridden out however many attempts it takes.
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		url, calls := failingServer(t, status, 40)
		c := newTestClient(t, url, time.Minute)
		got, err := c.call(t.Context(), http.MethodPost, "/x", callTimeout, nil, nil)
		if err != nil || got != http.StatusNoContent {
			t.Errorf("status %d: call = %d, %v, want 204 after the failures", status, got, err)
		}
		if n := calls.Load(); n != 41 {
			t.Errorf("status %d: server saw %d calls, want 41", status, n)
		}
	}
}

func TestCallGivesUpWhenTheServerStaysUnreachable(t *testing.T) {
	t.Parallel()
	url, calls := failingServer(t, http.StatusBadGateway, 1<<30)
	const giveUpAfter = 200 * time.Millisecond
	c := newTestClient(t, url, giveUpAfter)
	start := time.Now()
	_, err := c.call(t.Context(), http.MethodPost, "/x", callTimeout, nil, nil)
	if !hasStatus(err, http.StatusBadGateway) || !strings.Contains(err.Error(), "give up after") {
		t.Fatalf("call = %v, want it to give up with the 502", err)
	}
	if took := time.Since(start); took < giveUpAfter {
		t.Errorf("call gave up after %s, before the %s timeout", took, giveUpAfter)
	}
	if n := calls.Load(); n < 2 {
		t.Errorf("server saw %d calls, want retries", n)
	}
}

func TestCallDoesNotRetryUnrecoverableAnswers(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge} {
		url, calls := failingServer(t, status, 1<<30)
		c := newTestClient(t, url, time.Minute)
		if _, err := c.call(t.Context(), http.MethodPost, "/x", callTimeout, nil, nil); !hasStatus(err, status) {
			t.Errorf("call = %v, want the %d answer", err, status)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("status %d: server saw %d calls, want 1", status, n)
		}
	}
}
