package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/store"
)

// jobKey holds the authenticated job's step and task in a request's
// context.
const jobKey ctxKey = 100

type jobAuth struct {
	step *store.Step
	task *store.Task
}

// job lets a request through with the credential of the job named in the
// path ({id}), while that job runs on its worker: what a step's script
// holds (DYNPOOL_JOB_TOKEN). It opens the artifacts of the job's own task
// only.
func (s *Server) job(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, t, err := s.runner.JobStep(r.Context(), r.PathValue("id"), bearer(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), jobKey, &jobAuth{step: st, task: t})))
	}
}

func jobOf(r *http.Request) *jobAuth { return r.Context().Value(jobKey).(*jobAuth) }

// putJobArtifact stores the request body as an artifact of the job's task
// (PUT /agent/v1/jobs/{id}/artifacts/{name}).
func (s *Server) putJobArtifact(w http.ResponseWriter, r *http.Request) {
	j := jobOf(r)
	a, err := s.runner.PutArtifact(r.Context(), j.task, j.step, r.PathValue("name"), r.ContentLength, r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) listJobArtifacts(w http.ResponseWriter, r *http.Request) {
	s.writeArtifacts(w, r, jobOf(r).task)
}

func (s *Server) getJobArtifact(w http.ResponseWriter, r *http.Request) {
	s.writeArtifact(w, r, jobOf(r).task, r.PathValue("name"))
}

// listTaskArtifacts answers GET /api/v1/tasks/{id}/artifacts.
func (s *Server) listTaskArtifacts(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.TaskGet(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "task", r.PathValue("id")))
		return
	}
	s.writeArtifacts(w, r, t)
}

// getTaskArtifact answers GET /api/v1/tasks/{id}/artifacts/{name} with
// the artifact's bytes.
func (s *Server) getTaskArtifact(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.TaskGet(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "task", r.PathValue("id")))
		return
	}
	s.writeArtifact(w, r, t, r.PathValue("name"))
}

func (s *Server) writeArtifacts(w http.ResponseWriter, r *http.Request, t *store.Task) {
	list, err := s.runner.Artifacts(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ArtifactList{Artifacts: list})
}

// writeArtifact streams artifact name of t, with its size and SHA-256 in
// the headers.
func (s *Server) writeArtifact(w http.ResponseWriter, r *http.Request, t *store.Task, name string) {
	a, body, err := s.runner.OpenArtifact(r.Context(), t, name)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound(err, "task %s has no artifact %q", t.ID, name)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set(agent.HeaderSHA256, a.SHA256)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", a.Name))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, body); err != nil {
		// The status is sent: the client sees a short body, which the
		// Content-Length and checksum reveal.
		s.cfg.Logger.WarnContext(r.Context(), "send artifact", "task_id", t.ID, "artifact", name, "error", err)
	}
}

// addVariables puts the variables of task t on it, as GET
// /api/v1/tasks/{id} shows them.
func (s *Server) addVariables(ctx context.Context, t *api.Task) error {
	names := map[string]string{}
	for _, st := range t.Steps {
		names[st.ID] = st.Name
	}
	vars, steps, outputs, err := s.runner.TaskVariables(ctx, t.ID, func(id string) string { return names[id] })
	if err != nil {
		return err
	}
	t.Variables, t.OutputVariables = vars, outputs
	for i := range t.Steps {
		t.Steps[i].Variables = steps[t.Steps[i].ID]
	}
	return nil
}
