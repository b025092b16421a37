package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// logServer serves a task log of n lines (seq 1..n) as server-sent events.
// The connection number i (from 0) stops after breakAfter[i] lines without
// an end event; later connections run to the end. It repeats the line at
// after, if any, to check the client drops duplicates. It records every
// request URI.
type logServer struct {
	n          int
	breakAfter []int
	mu         sync.Mutex
	uris       []string
}

func (s *logServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	conn := len(s.uris)
	s.uris = append(s.uris, r.URL.RequestURI())
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer k" {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, ": hello\n\n")
	start := max(after, 1) // repeat the line at after
	sent := 0
	for seq := start; seq <= s.n; seq++ {
		if conn < len(s.breakAfter) && sent == s.breakAfter[conn] {
			return
		}
		b, _ := json.Marshal(api.LogLine{Seq: int64(seq), Level: "info", Message: "line " + strconv.Itoa(seq)})
		fmt.Fprintf(w, "event: line\ndata: %s\n\n", b)
		sent++
	}
	fmt.Fprint(w, "event: end\ndata: {\"id\":\"k1\",\n")
	fmt.Fprint(w, "data: \"state\":\"success\"}\n\n")
}

func newTestClient(url string) *Client {
	c := New(url, "k")
	c.reconnectDelay = 0
	return c
}

func followAll(ctx context.Context, c *Client) ([]int64, *api.Task, error) {
	var seqs []int64
	task, err := c.FollowLog(ctx, "k1", func(l api.LogLine) { seqs = append(seqs, l.Seq) })
	return seqs, task, err
}

func TestFollowLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		breakAfter []int
		wantURIs   []string
	}{
		{"unbroken", nil, []string{"/api/v1/tasks/k1/log?follow=true"}},
		{"reconnects and resumes", []int{2, 0, 2}, []string{
			"/api/v1/tasks/k1/log?follow=true",
			"/api/v1/tasks/k1/log?follow=true&after=2",
			"/api/v1/tasks/k1/log?follow=true&after=2",
			"/api/v1/tasks/k1/log?follow=true&after=3",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ls := &logServer{n: 5, breakAfter: tt.breakAfter}
			srv := httptest.NewServer(ls)
			t.Cleanup(srv.Close)
			seqs, task, err := followAll(t.Context(), newTestClient(srv.URL))
			if err != nil {
				t.Fatalf("FollowLog: %v", err)
			}
			if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(seqs, want) {
				t.Errorf("lines = %v, want %v", seqs, want)
			}
			if task == nil || task.ID != "k1" || task.State != api.StateSuccess {
				t.Errorf("task = %+v, want k1 success", task)
			}
			if !slices.Equal(ls.uris, tt.wantURIs) {
				t.Errorf("requests = %q, want %q", ls.uris, tt.wantURIs)
			}
		})
	}
}

func TestFollowLogGivesUp(t *testing.T) {
	t.Parallel()
	breaks := make([]int, maxReconnects+1) // every connection breaks at once
	ls := &logServer{n: 3, breakAfter: breaks}
	srv := httptest.NewServer(ls)
	t.Cleanup(srv.Close)
	// The first connection sends one line, then breaks, so it counts as
	// progress; the ones after send nothing new but the repeated line.
	ls.breakAfter[0] = 1
	_, _, err := followAll(t.Context(), newTestClient(srv.URL))
	if !errors.Is(err, errStreamBroken) || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("err = %v, want give-up after broken streams", err)
	}
	if got := len(ls.uris); got > maxReconnects+2 {
		t.Errorf("%d requests, want at most %d", got, maxReconnects+2)
	}
}

func TestFollowLogErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		check   func(t *testing.T, err error)
	}{
		{"4xx is returned at once", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"task \"k1\" not found"}}`)
		}, func(t *testing.T, err error) {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusNotFound {
				t.Errorf("err = %v, want a 404 *Error", err)
			}
		}},
		{"bad line", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "event: line\ndata: {\n\n")
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "decode event: log line") {
				t.Errorf("err = %v, want a decode error", err)
			}
		}},
		{"bad end", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "event: end\ndata: [\n\n")
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "decode event: end of task") {
				t.Errorf("err = %v, want a decode error", err)
			}
		}},
		{"oversized event", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "data: "+strings.Repeat("x", 5<<20)+"\n\n")
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "too long") {
				t.Errorf("err = %v, want a too long error", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			_, _, err := followAll(t.Context(), newTestClient(srv.URL))
			tt.check(t, err)
		})
	}
}

func TestFollowLogCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "event: line\ndata: {\"seq\":1}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	_, err := New(srv.URL, "k").FollowLog(ctx, "k1", func(api.LogLine) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestFollowLogRetries5xx(t *testing.T) {
	t.Parallel()
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "event: line\ndata: {\"seq\":1}\n\nevent: end\ndata: {\"id\":\"k1\",\"state\":\"failed\"}\n\n")
	}))
	t.Cleanup(srv.Close)
	seqs, task, err := followAll(t.Context(), newTestClient(srv.URL))
	if err != nil {
		t.Fatalf("FollowLog: %v", err)
	}
	if !slices.Equal(seqs, []int64{1}) || task.State != api.StateFailed || calls != 2 {
		t.Errorf("lines %v, task %+v, %d calls; want [1], failed, 2 calls", seqs, task, calls)
	}
}
