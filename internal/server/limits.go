package server

import (
	"errors"
	"fmt"
	"time"
)

// The defaults of Limits. docs/security.md lists them with their flags.
const (
	// DefaultLogLineBytes bounds one message of a log upload. The agent
	// splits output lines at 64 KiB of raw bytes; JSON turns each invalid
	// UTF-8 byte into U+FFFD (3 bytes), so an honest line reaches the
	// server as at most 192 KiB.
	DefaultLogLineBytes = 256 << 10
	// DefaultLogLinesPerUpload bounds the lines of one log upload; the
	// agent sends at most 500 (its logBatchLines).
	DefaultLogLinesPerUpload = 1000
	// DefaultLogLinesPerSecond and DefaultLogLineBurst shape the token
	// bucket of each worker's log uploads: a sustained 5000 lines a second
	// (about what a busy build prints), with bursts of 50 000.
	DefaultLogLinesPerSecond = 5000
	DefaultLogLineBurst      = 50_000
	// DefaultBodyReadTimeout is how long a client may take to send a
	// request body (artifact uploads excepted) before 408.
	DefaultBodyReadTimeout = 60 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection idle this long.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultAuthFailures failed authentications from one source within
	// DefaultAuthWindow make that source wait (429) until the window ends.
	DefaultAuthFailures = 60
	DefaultAuthWindow   = time.Minute
)

// Limits bounds what one client may send the server. A zero field takes
// its default; a negative one switches that limit off.
type Limits struct {
	// LogLineBytes bounds one message of POST /agent/v1/jobs/{id}/log
	// (bytes); a longer one answers 413.
	LogLineBytes int
	// LogLinesPerUpload bounds the lines of one log upload; more answer
	// 413.
	LogLinesPerUpload int
	// LogLinesPerSecond is the rate (lines per second) at which each
	// worker may upload log lines, LogLineBurst the lines it may upload at
	// once above that rate; beyond, 429 with Retry-After.
	LogLinesPerSecond float64
	LogLineBurst      int
	// BodyReadTimeout bounds the time from a request's start to the end
	// of its body; a slower client answers 408. Artifact uploads (PUT
	// /agent/v1/jobs/{id}/artifacts/{name}), bounded by size instead, are
	// exempt. It does not bound the answer: long-polls, log follows and
	// execution containers last as long as they need.
	BodyReadTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration
	// AuthFailures failed authentications (401) from one source address
	// within AuthWindow make every further request from it answer 429
	// until the window ends.
	AuthFailures int
	AuthWindow   time.Duration
}

func setDefaultInt(v *int, d int) {
	if *v == 0 {
		*v = d
	}
}

func setDefaultDuration(v *time.Duration, d time.Duration) {
	if *v == 0 {
		*v = d
	}
}

func (l *Limits) setDefaults() {
	setDefaultInt(&l.LogLineBytes, DefaultLogLineBytes)
	setDefaultInt(&l.LogLinesPerUpload, DefaultLogLinesPerUpload)
	if l.LogLinesPerSecond == 0 {
		l.LogLinesPerSecond = DefaultLogLinesPerSecond
	}
	setDefaultInt(&l.LogLineBurst, DefaultLogLineBurst)
	setDefaultDuration(&l.BodyReadTimeout, DefaultBodyReadTimeout)
	setDefaultDuration(&l.IdleTimeout, DefaultIdleTimeout)
	setDefaultInt(&l.AuthFailures, DefaultAuthFailures)
	setDefaultDuration(&l.AuthWindow, DefaultAuthWindow)
}

// validate refuses a rate limit whose burst cannot hold one upload: every
// upload of more lines than the burst would wait forever.
func (l *Limits) validate() error {
	if l.LogLinesPerSecond > 0 && l.LogLineBurst > 0 && l.LogLinesPerUpload > 0 && l.LogLineBurst < l.LogLinesPerUpload {
		return fmt.Errorf("the log line burst (%d) must be at least the lines of one upload (%d)", l.LogLineBurst, l.LogLinesPerUpload)
	}
	if l.LogLinesPerSecond > 0 && l.LogLineBurst < 0 {
		return errors.New("a log line rate needs a positive burst")
	}
	return nil
}
