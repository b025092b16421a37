package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
)

// errorOf decodes the error shape of rec, failing t unless it has status
// want and the code.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder, want int, code string) api.Error {
	t.Helper()
	var e api.ErrorResponse
	if rec.Code != want || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != code {
		t.Fatalf("answer %d %s, want %d with code %s", rec.Code, rec.Body, want, code)
	}
	return e.Error
}

func logBody(lines int, size int) []byte {
	var req api.AgentLogRequest
	for range lines {
		req.Lines = append(req.Lines, api.AgentLogLine{Stream: "stdout", Message: strings.Repeat("x", size)})
	}
	b, _ := json.Marshal(req)
	return b
}

// guardedTarget is a fuzzTarget whose handler has the guard, on a fake
// clock, with the limits set by mutate.
func guardedTarget(t *testing.T, mutate func(*Limits)) (*fuzzTarget, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClock()
	var l Limits
	mutate(&l)
	ft := newTarget(t, Config{Limits: l, Clock: clock})
	ft.h = ft.s.guard(ft.h)
	return ft, clock
}

func TestLogUploadLimitsAnswer413(t *testing.T) {
	t.Parallel()
	ft, _ := guardedTarget(t, func(l *Limits) { l.LogLineBytes, l.LogLinesPerUpload = 100, 10 })
	path := "/agent/v1/jobs/j-none/log"
	e := errorOf(t, ft.serve("POST", path, ft.credential, logBody(1, 101)), http.StatusRequestEntityTooLarge, api.CodeTooLarge)
	if !strings.Contains(e.Message, "line 0 is 101 bytes, more than the limit of 100 bytes per line") {
		t.Errorf("long line: message %q does not say the limit", e.Message)
	}
	e = errorOf(t, ft.serve("POST", path, ft.credential, logBody(11, 1)), http.StatusRequestEntityTooLarge, api.CodeTooLarge)
	if !strings.Contains(e.Message, "11 lines, more than the limit of 10 per upload") {
		t.Errorf("many lines: message %q does not say the limit", e.Message)
	}
	// At the limits the upload passes them and reaches the job lookup.
	errorOf(t, ft.serve("POST", path, ft.credential, logBody(10, 100)), http.StatusNotFound, api.CodeNotFound)
}

func TestLogUploadRateAnswers429WithRetryAfter(t *testing.T) {
	t.Parallel()
	ft, clock := guardedTarget(t, func(l *Limits) { l.LogLinesPerSecond, l.LogLineBurst, l.LogLinesPerUpload = 10, 20, 20 })
	path := "/agent/v1/jobs/j-none/log"
	errorOf(t, ft.serve("POST", path, ft.credential, logBody(20, 1)), http.StatusNotFound, api.CodeNotFound) // the burst
	rec := ft.serve("POST", path, ft.credential, logBody(5, 1))
	e := errorOf(t, rec, http.StatusTooManyRequests, api.CodeRateLimited)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (5 lines at 10 a second)", got)
	}
	if !strings.Contains(e.Message, "limit of 10 lines a second (burst 20)") {
		t.Errorf("message %q does not say the limit", e.Message)
	}
	clock.Advance(500 * time.Millisecond) // 5 lines back
	errorOf(t, ft.serve("POST", path, ft.credential, logBody(5, 1)), http.StatusNotFound, api.CodeNotFound)
}

func TestFailedAuthenticationsMakeTheSourceWait(t *testing.T) {
	t.Parallel()
	ft, clock := guardedTarget(t, func(l *Limits) { l.AuthFailures, l.AuthWindow = 3, time.Minute })
	from := func(addr, token, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		ft.h.ServeHTTP(rec, r)
		return rec
	}
	const attacker, other = "203.0.113.7:4000", "198.51.100.1:5000"
	for range 3 {
		errorOf(t, from(attacker, "dpk_wrong", "/api/v1/pools"), http.StatusUnauthorized, api.CodeUnauthenticated)
	}
	clock.Advance(20 * time.Second)
	rec := from("203.0.113.7:4001", ft.apiKey, "/api/v1/pools") // another port, a valid key: still waits
	e := errorOf(t, rec, http.StatusTooManyRequests, api.CodeRateLimited)
	if got := rec.Header().Get("Retry-After"); got != "40" {
		t.Errorf("Retry-After = %q, want 40 (the rest of the minute)", got)
	}
	if !strings.Contains(e.Message, "limit 3 per 1m0s") {
		t.Errorf("message %q does not say the limit", e.Message)
	}
	if rec := from(other, ft.apiKey, "/api/v1/pools"); rec.Code != http.StatusOK {
		t.Errorf("another source: %d %s, want 200", rec.Code, rec.Body)
	}
	for range 5 {
		errorOf(t, from("127.0.0.1:6000", "dpk_wrong", "/api/v1/pools"), http.StatusUnauthorized, api.CodeUnauthenticated)
	}
	if rec := from("[::1]:6000", ft.apiKey, "/api/v1/pools"); rec.Code != http.StatusOK {
		t.Errorf("loopback after failures: %d %s, want 200 (no back-off on the server's host)", rec.Code, rec.Body)
	}
	// The agent API is neither refused nor counted: a deleted machine's
	// agent retrying with a dead credential must not lock out live agents
	// or users behind the same address.
	errorOf(t, from(attacker, "dpw_dead", "/agent/v1/jobs/next"), http.StatusUnauthorized, api.CodeUnauthenticated)
	const natted = "192.0.2.9:7000"
	for range 10 {
		errorOf(t, from(natted, "dpw_dead", "/agent/v1/jobs/next"), http.StatusUnauthorized, api.CodeUnauthenticated)
	}
	if rec := from(natted, ft.apiKey, "/api/v1/pools"); rec.Code != http.StatusOK {
		t.Errorf("after agent-API failures from the same address: %d %s, want 200", rec.Code, rec.Body)
	}
	if rec := from(attacker, "", "/healthz"); rec.Code != http.StatusOK {
		t.Errorf("health probe from the waiting source: %d, want 200", rec.Code)
	}
	clock.Advance(40 * time.Second)
	if rec := from(attacker, ft.apiKey, "/api/v1/pools"); rec.Code != http.StatusOK {
		t.Errorf("after the window: %d %s, want 200", rec.Code, rec.Body)
	}
}

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	l := Limits{LogLineBurst: 10, LogLinesPerUpload: 100}
	l.setDefaults()
	if err := l.validate(); err == nil || !strings.Contains(err.Error(), "burst (10) must be at least the lines of one upload (100)") {
		t.Errorf("validate = %v, want the burst refused", err)
	}
	off := Limits{LogLinesPerSecond: -1, AuthFailures: -1}
	off.setDefaults()
	if err := off.validate(); err != nil {
		t.Errorf("validate of switched-off limits = %v", err)
	}
}

// guardOnly is a Server with just what guard needs, serving h behind it
// on a real loopback listener (read deadlines belong to connections).
func guardOnly(t *testing.T, timeout time.Duration, h http.Handler) string {
	t.Helper()
	s := &Server{cfg: Config{Limits: Limits{BodyReadTimeout: timeout}, Logger: slog.New(slog.DiscardHandler)}}
	srv := httptest.NewServer(s.guard(h))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestSlowBodyAnswers408(t *testing.T) {
	t.Parallel()
	addr := guardOnly(t, 100*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := decode(w, r, &v); err != nil {
			(&Server{cfg: Config{Logger: slog.New(slog.DiscardHandler)}}).writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half a body, then nothing: the server must not wait for the rest.
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "did not arrive within the limit of 100ms") {
		t.Fatalf("slow body: %d %s, want 408 naming the limit", resp.StatusCode, b)
	}
}

func TestBodyDeadlineDoesNotCutLongAnswers(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	addr := guardOnly(t, timeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Answer well after the body deadline, as a long-poll or an
		// execution container does; the request must still be alive.
		select {
		case <-time.After(4 * timeout):
			w.Write([]byte("done"))
		case <-r.Context().Done():
		}
	}))
	for range 2 { // the second request reuses the connection
		resp, err := http.Post("http://"+addr+"/x", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "done" {
			t.Fatalf("long answer: %d %q, want 200 done", resp.StatusCode, b)
		}
	}
}
