package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
)

// Backoff between retries of one call: firstBackoff, doubling, at most
// maxBackoff.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
	// callTimeout bounds one attempt of a call other than the long-poll.
	callTimeout = 30 * time.Second
	// pollSlack is added to the poll wait to bound one long-poll attempt.
	pollSlack = 15 * time.Second
)

// StatusError is a non-2xx answer from the server, with the decoded
// api.ErrorResponse body when there was one.
type StatusError struct {
	Status int
	Err    api.Error
}

func (e *StatusError) Error() string {
	if e.Err.Message == "" {
		return fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Err.Message)
}

// hasStatus reports whether err is a StatusError with one of codes.
func hasStatus(err error, codes ...int) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Status == c {
			return true
		}
	}
	return false
}

// retryable reports whether a failed attempt is worth retrying: network
// errors (the server restarting), 5xx and 429. Every other status is an
// answer that will not change by asking again.
func retryable(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return true
	}
	return se.Status >= 500 || se.Status == http.StatusTooManyRequests
}

// client makes agent protocol calls with one bearer token.
type client struct {
	base  string
	http  *http.Client
	token string
	// giveUpAfter is how long a call retries retryable failures, from its
	// first failure on (Config.ServerUnreachableTimeout).
	giveUpAfter time.Duration
	// firstBackoff and maxBackoff shape the backoff between attempts: the
	// package constants, shorter in tests.
	firstBackoff, maxBackoff time.Duration
	logger                   *slog.Logger
}

// call sends in (if not nil) as JSON and decodes a 200 answer into out (if
// not nil). It returns the status of the answer. Retryable failures are
// retried with backoff until c.giveUpAfter has passed since the first of
// them; then the last failure is returned. timeout bounds each attempt;
// 0 means no bound.
func (c *client) call(ctx context.Context, method, path string, timeout time.Duration, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	backoff := c.firstBackoff
	var firstFailure time.Time
	for attempt := 1; ; attempt++ {
		started := time.Now()
		status, err := c.attempt(ctx, method, path, timeout, body, out)
		if err == nil || ctx.Err() != nil || !retryable(err) {
			return status, err
		}
		if firstFailure.IsZero() {
			// The failure began when its attempt did: a hung attempt
			// counts against the timeout too.
			firstFailure = started
		}
		left := c.giveUpAfter - time.Since(firstFailure)
		if left <= 0 {
			return status, fmt.Errorf("give up after %d attempts in %s: %w",
				attempt, time.Since(firstFailure).Round(time.Millisecond), err)
		}
		wait := min(backoff, left)
		c.logger.WarnContext(ctx, "agent call failed, retrying",
			"method", method, "path", path, "attempt", attempt, "backoff", wait, "error", err)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		case <-time.After(wait):
		}
		backoff = min(2*backoff, c.maxBackoff)
	}
}

func (c *client) attempt(ctx context.Context, method, path string, timeout time.Duration, body []byte, out any) (int, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{Status: resp.StatusCode}
		var er api.ErrorResponse
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&er) == nil {
			se.Err = er.Error
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, se)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			// A cut-off body is as transient as a dropped connection.
			return resp.StatusCode, fmt.Errorf("decode answer to %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
