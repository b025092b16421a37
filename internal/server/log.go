package server

import (
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
	if _, err := s.store.TaskGet(r.Context(), tenant.ID, id); err != nil {
		s.writeError(w, r, notFoundOr(err, "task", id))
		return
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, validation.Errorf("after", "%q is not a line number", v))
			return
		}
		after = n
	}
	if r.URL.Query().Get("follow") == "true" {
		s.followLog(w, r, tenant.ID, id, after)
		return
	}
	out := api.LogList{Lines: []api.LogLine{}}
	for {
		lines, err := s.store.LogList(r.Context(), id, after, logPage)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, l := range lines {
			out.Lines = append(out.Lines, logLineAPI(l))
			after = l.Seq
		}
		if len(lines) < logPage {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
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
