package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// logPage is how many lines one read of the store returns.
const logPage = 1000

// sseKeepalive is how often a quiet follow stream sends a comment, so
// proxies do not close it.
const sseKeepalive = 15 * time.Second

// taskLog answers GET /api/v1/tasks/{id}/log: the lines after ?after=N
// as JSON, or with ?follow=true a text/event-stream of "line" events that
// ends with an "end" event carrying the task.
func (s *Server) taskLog(w http.ResponseWriter, r *http.Request) {
	tenant, id := tenantOf(r), r.PathValue("id")
	after, err := afterParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("follow") == "true" {
		s.streamLog(w, r, tenant.ID, id, after)
		return
	}
	lines, err := s.logList(r.Context(), tenant.ID, id, after)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.LogList{Lines: lines})
}

// afterParam reads ?after=N, the line number a log read resumes after.
func afterParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, validation.Errorf("after", "%q is not a line number", v)
	}
	return n, nil
}

// logList returns the lines of task id of tenant tenantID after line
// after; another tenant's task answers 404.
func (s *Server) logList(ctx context.Context, tenantID, id string, after int64) ([]api.LogLine, error) {
	if _, err := s.store.TaskGet(ctx, tenantID, id); err != nil {
		return nil, notFoundOr(err, "task", id)
	}
	out := []api.LogLine{}
	for {
		lines, err := s.store.LogList(ctx, id, after, logPage)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			out = append(out, logLineAPI(l))
			after = l.Seq
		}
		if len(lines) < logPage {
			return out, nil
		}
	}
}

// streamLog follows the log of task id of tenant tenantID as server-sent
// events (see followLog), or answers a JSON 404 for another tenant's or
// an unknown task. The API's ?follow=true and the console's live log
// both stream through here.
func (s *Server) streamLog(w http.ResponseWriter, r *http.Request, tenantID, id string, after int64) {
	if _, err := s.store.TaskGet(r.Context(), tenantID, id); err != nil {
		s.writeError(w, r, notFoundOr(err, "task", id))
		return
	}
	s.followLog(w, r, tenantID, id, after)
}

func (s *Server) followLog(w http.ResponseWriter, r *http.Request, tenantID, id string, after int64) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.writeError(w, r, fmt.Errorf("streaming is not supported by this connection"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	ctx := r.Context()
	for {
		grown := s.runner.WaitLog(id)
		// Read the task before the lines: if it has ended, every line it
		// wrote is in the store already and the loop drains them first.
		t, err := s.store.TaskGet(ctx, tenantID, id)
		if err != nil {
			return
		}
		lines, err := s.store.LogList(ctx, id, after, logPage)
		if err != nil {
			return
		}
		for _, l := range lines {
			writeEvent(w, "line", logLineAPI(l))
			after = l.Seq
		}
		flusher.Flush()
		if len(lines) == logPage {
			continue
		}
		if t.FinishedAt != nil { // a canceled task may still log until its step stops
			writeEvent(w, "end", s.taskAPI(t))
			flusher.Flush()
			return
		}
		select {
		case <-grown:
		case <-time.After(sseKeepalive):
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		case <-ctx.Done():
			return
		}
	}
}

func writeEvent(w http.ResponseWriter, event string, v any) {
	b, _ := json.Marshal(v) // wire types always marshal
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}

func logLineAPI(l store.LogLine) api.LogLine {
	return api.LogLine{Seq: l.Seq, Time: l.Time, Level: l.Level, Step: l.Step, Message: l.Message}
}
