package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// authBackoff counts failed authentications per source address in fixed
// windows (Limits.AuthFailures per Limits.AuthWindow), read with the
// server's clock. A source that reached the limit waits until its window
// ends.
type authBackoff struct {
	max    int
	window time.Duration
	clock  clockwork.Clock

	mu      sync.Mutex
	sources map[string]*authWindow
}

// authWindow is one source's failures since start.
type authWindow struct {
	start    time.Time
	failures int
}

// maxAuthSources bounds the sources kept; past it, ended windows go.
const maxAuthSources = 100_000

func newAuthBackoff(l Limits, clock clockwork.Clock) *authBackoff {
	return &authBackoff{max: l.AuthFailures, window: l.AuthWindow, clock: clock, sources: make(map[string]*authWindow)}
}

// wait returns how long source must wait before it is heard again; 0
// when it may be heard now.
func (a *authBackoff) wait(source string) time.Duration {
	if a == nil || a.max <= 0 {
		return 0
	}
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.sources[source]
	if !ok || w.failures < a.max {
		return 0
	}
	if left := w.start.Add(a.window).Sub(now); left > 0 {
		return left
	}
	delete(a.sources, source)
	return 0
}

// failed records a failed authentication from source.
func (a *authBackoff) failed(source string) {
	if a == nil || a.max <= 0 {
		return
	}
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.sources[source]
	if !ok || !now.Before(w.start.Add(a.window)) {
		if !ok && len(a.sources) >= maxAuthSources {
			a.sweep(now)
		}
		w = &authWindow{start: now}
		a.sources[source] = w
	}
	w.failures++
}

func (a *authBackoff) sweep(now time.Time) {
	for k, w := range a.sources {
		if !now.Before(w.start.Add(a.window)) {
			delete(a.sources, k)
		}
	}
}

// sourceOf is the address a request came from: the peer's IP, without
// its port. Forwarding headers are not trusted: behind a proxy, every
// client shares the proxy's address.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
