package agent

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

const (
	fakeRegToken   = "reg-token"
	fakeCredential = "worker-credential"
	fakeWorkerID   = "w-1"
)

// fakeMaxBody is the largest request body the fake takes, as the real
// server: it answers 413 to bigger ones.
const fakeMaxBody = 2 << 20

// dropConnection, given to failNext, makes the server drop the connection
// without an answer.
const dropConnection = -1

// fakeServer is the agent side of a dynpool server, in memory.
type fakeServer struct {
	t    *testing.T
	jobs chan *api.Job

	mu         sync.Mutex
	auth       map[string][]string // path → Authorization headers seen
	lines      map[string][]api.AgentLogLine
	uploads    map[string][]int // job id → message bytes of each log upload
	completed  map[string]api.CompleteRequest
	cancel     map[string]bool  // jobs to cancel through heartbeat
	cancelLog  map[string]bool  // jobs to cancel through the log answer
	fail       map[string][]int // path suffix → statuses to answer first, in order
	heartbeats int
	// containers records container runs: the request and the script file
	// as it was when the request came.
	containers map[string][]containerRun
	// containerAnswer is the answer to every container run.
	containerAnswer api.ContainerRunResponse
	// healthCheck is sent in every heartbeat answer; healthResults are
	// the health-check outcomes heartbeats reported, in order.
	healthCheck   *api.HealthCheck
	healthResults []api.HealthCheckResult
}

// containerRun is one POST /agent/v1/jobs/{id}/container the fake took.
type containerRun struct {
	req    api.ContainerRunRequest
	script string
	mode   os.FileMode // of req.Dir
}

func newFakeServer(t *testing.T) (*fakeServer, *httptest.Server) {
	f := &fakeServer{
		t:          t,
		jobs:       make(chan *api.Job, 10),
		auth:       make(map[string][]string),
		lines:      make(map[string][]api.AgentLogLine),
		uploads:    make(map[string][]int),
		completed:  make(map[string]api.CompleteRequest),
		cancel:     make(map[string]bool),
		cancelLog:  make(map[string]bool),
		fail:       make(map[string][]int),
		containers: make(map[string][]containerRun),
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// failNext makes the next calls whose path ends with suffix answer the
// given statuses, one each.
func (f *fakeServer) failNext(suffix string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[suffix] = append(f.fail[suffix], statuses...)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auth[r.URL.Path] = append(f.auth[r.URL.Path], r.Header.Get("Authorization"))
	for suffix, statuses := range f.fail {
		if strings.HasSuffix(r.URL.Path, suffix) && len(statuses) > 0 {
			f.fail[suffix] = statuses[1:]
			f.mu.Unlock()
			if statuses[0] == dropConnection {
				panic(http.ErrAbortHandler)
			}
			writeError(w, statuses[0])
			return
		}
	}
	f.mu.Unlock()

	want := "Bearer " + fakeCredential
	if r.URL.Path == "/agent/v1/register" {
		want = "Bearer " + fakeRegToken
	}
	if r.Header.Get("Authorization") != want {
		writeError(w, http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == "/agent/v1/register":
		writeJSON(w, api.RegisterResponse{WorkerID: fakeWorkerID, Credential: fakeCredential, HeartbeatInterval: "50ms"})
	case r.URL.Path == "/agent/v1/heartbeat":
		var req api.HeartbeatRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.heartbeats++
		if req.HealthCheck != nil {
			f.healthResults = append(f.healthResults, *req.HealthCheck)
		}
		resp := api.HeartbeatResponse{HealthCheck: f.healthCheck}
		for id := range f.cancel {
			resp.CancelJobs = append(resp.CancelJobs, id)
		}
		f.mu.Unlock()
		writeJSON(w, resp)
	case r.URL.Path == "/agent/v1/jobs/next":
		wait, err := time.ParseDuration(r.URL.Query().Get("wait"))
		if err != nil {
			writeError(w, http.StatusBadRequest)
			return
		}
		select {
		case job := <-f.jobs:
			writeJSON(w, job)
		case <-time.After(wait):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	case strings.HasSuffix(r.URL.Path, "/log"):
		id := jobID(r.URL.Path)
		var req api.AgentLogRequest
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, fakeMaxBody)).Decode(&req)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest)
			return
		}
		size := 0
		for _, l := range req.Lines {
			size += len(l.Message)
		}
		f.mu.Lock()
		f.uploads[id] = append(f.uploads[id], size)
		f.lines[id] = append(f.lines[id], req.Lines...)
		canceled := f.cancelLog[id]
		f.mu.Unlock()
		writeJSON(w, api.AgentLogResponse{Canceled: canceled})
	case strings.HasSuffix(r.URL.Path, "/container"):
		var req api.ContainerRunRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Command) == 0 {
			writeError(w, http.StatusBadRequest)
			return
		}
		run := containerRun{req: req}
		if b, err := os.ReadFile(req.Command[len(req.Command)-1]); err == nil {
			run.script = string(b)
		}
		if fi, err := os.Stat(req.Dir); err == nil {
			run.mode = fi.Mode().Perm()
		}
		f.mu.Lock()
		f.containers[jobID(r.URL.Path)] = append(f.containers[jobID(r.URL.Path)], run)
		answer := f.containerAnswer
		f.mu.Unlock()
		writeJSON(w, answer)
	case strings.HasSuffix(r.URL.Path, "/complete"):
		var req api.CompleteRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.completed[jobID(r.URL.Path)] = req
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound)
	}
}

func jobID(path string) string {
	return strings.Split(strings.TrimPrefix(path, "/agent/v1/jobs/"), "/")[0]
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.Error{Code: "test", Message: http.StatusText(status)}})
}

// messages returns the lines of job on stream received so far.
func (f *fakeServer) messages(id, stream string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.lines[id] {
		if l.Stream == stream {
			out = append(out, l.Message)
		}
	}
	return out
}

func (f *fakeServer) completion(id string) (api.CompleteRequest, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, ok := f.completed[id]
	return req, ok
}

// newHandlerServer serves h and returns its URL.
func newHandlerServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
