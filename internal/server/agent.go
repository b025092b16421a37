package server

import (
	"net/http"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/validation"
)

// maxJobWait bounds the long-poll of GET /agent/v1/jobs/next.
const maxJobWait = 60 * time.Second

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	wk, credential, err := s.fleet.Register(r.Context(), bearer(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RegisterResponse{
		WorkerID: wk.ID, Credential: credential, HeartbeatInterval: s.fleet.HeartbeatInterval().String(),
	})
}

// maxRunningJobs bounds the job ids a heartbeat may list: an agent runs
// as many jobs at once as its pool's capacity, at most MaxPoolCapacity
// (a heartbeat refused with 400 stops the agent, found by review).
const maxRunningJobs = api.MaxPoolCapacity

// heartbeat answers POST /agent/v1/heartbeat: the worker is alive, and
// its agent learns which of its jobs to stop.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	var req api.HeartbeatRequest
	if r.ContentLength != 0 { // an empty body: an agent older than HeartbeatRequest
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if len(req.RunningJobs) > maxRunningJobs {
		s.writeError(w, r, validation.Errorf("running_jobs", "%d jobs listed; an agent runs at most %d", len(req.RunningJobs), maxRunningJobs))
		return
	}
	wk := workerOf(r)
	if len(req.AgentVersion) > 100 {
		s.writeError(w, r, validation.Errorf("agent_version", "an agent version of at most 100 characters"))
		return
	}
	if err := validation.Text("agent_version", req.AgentVersion); err != nil {
		s.writeError(w, r, err)
		return
	}
	policy, err := s.agentPolicyOf(r.Context(), wk)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hb := fleet.HeartbeatParams{Running: len(req.RunningJobs), AgentVersion: req.AgentVersion}
	if err := s.fleet.Heartbeat(r.Context(), wk, hb); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Liveness first: the agent stops on a failed heartbeat, so a bad
	// outcome or a failed health write must not fail it.
	if err := s.recordHealth(r, wk, policy, req.HealthCheck); err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "health-check outcome not recorded", "worker_id", wk.ID, "tenant_id", wk.TenantID, "error", err)
	}
	cancel, err := s.runner.CancelJobs(r.Context(), wk, req.RunningJobs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.HeartbeatResponse{
		CancelJobs: cancel, HeartbeatInterval: policy.interval.String(), HealthCheck: policy.healthCheck,
	})
}

func (s *Server) nextJob(w http.ResponseWriter, r *http.Request) {
	wait := 30 * time.Second
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxJobWait {
			s.writeError(w, r, validation.Errorf("wait", "%q is not a duration between 0s and %s", v, maxJobWait))
			return
		}
		wait = d
	}
	job, err := s.runner.NextJob(r.Context(), workerOf(r), wait, r.URL.Query()["running"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if job == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, job)
}

func (s *Server) jobLog(w http.ResponseWriter, r *http.Request) {
	var req api.AgentLogRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if wait, err := s.checkLogUpload(workerOf(r).ID, req.Lines); err != nil {
		s.writeRetry(w, r, wait, err)
		return
	}
	canceled, err := s.runner.AppendOutput(r.Context(), workerOf(r), r.PathValue("id"), req.Lines)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.AgentLogResponse{Canceled: canceled})
}

func (s *Server) completeJob(w http.ResponseWriter, r *http.Request) {
	var req api.CompleteRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.runner.Complete(r.Context(), workerOf(r), r.PathValue("id"), &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// runContainer runs a job's execution container; the request lasts as
// long as the container.
func (s *Server) runContainer(w http.ResponseWriter, r *http.Request) {
	var req api.ContainerRunRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	// The request ends when the agent hangs up (the job was canceled or
	// the worker went) or when this server stops. Only in the first case
	// does the container go; in the second the agent asks again, and the
	// next server follows the running container.
	stopping := func() bool { return serverStopping(r.Context()) }
	resp, err := s.runner.RunContainer(r.Context(), workerOf(r), r.PathValue("id"), &req, stopping)
	if err != nil && stopping() {
		writeJSON(w, http.StatusServiceUnavailable, api.ErrorResponse{Error: api.Error{
			Code: api.CodeUnavailable, Message: "the server is stopping; ask again: the execution container runs on",
		}})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
