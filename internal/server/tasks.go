package server

import (
	"net/http"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTaskRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.runner.Submit(r.Context(), tenantOf(r), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.taskAPI(t))
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.TaskGet(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "task", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, s.taskAPI(t))
}

func (s *Server) cancelTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.runner.Cancel(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundOr(err, "task", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, s.taskAPI(t))
}

func (s *Server) taskAPI(t *store.Task) api.Task {
	out := api.Task{
		ID: t.ID, Name: t.Name, State: t.State, Error: t.Error,
		CreatedAt: t.CreatedAt, FinishedAt: t.FinishedAt, Steps: []api.Step{},
	}
	for _, st := range t.Steps {
		worker := st.WorkerID
		if worker == "" && st.State == api.StateRunning {
			worker = s.runner.Provisioning(st.ID)
		}
		out.Steps = append(out.Steps, api.Step{
			ID: st.ID, Name: st.Name, PoolID: st.PoolID, Syntax: st.Syntax, State: st.State,
			WorkerID: worker, ExitCode: st.ExitCode, Error: st.Error, Requires: st.Requires,
		})
	}
	return out
}

func (s *Server) listWorkers(w http.ResponseWriter, r *http.Request) {
	s.writeWorkers(w, r, tenantOf(r).ID, r.URL.Query().Get("all") == "true", false)
}

func (s *Server) adminListWorkers(w http.ResponseWriter, r *http.Request) {
	s.writeWorkers(w, r, "", r.URL.Query().Get("all") == "true", true)
}

// writeWorkers answers the workers of tenantID ("" for all), live ones
// only unless all is set.
func (s *Server) writeWorkers(w http.ResponseWriter, r *http.Request, tenantID string, all, withTenant bool) {
	p := &store.WorkerListParams{TenantID: tenantID}
	if !all {
		p.States = fleet.LiveStates
	}
	ws, err := s.store.WorkerList(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.WorkerList{Workers: []api.Worker{}}
	for _, wk := range ws {
		a := api.Worker{
			ID: wk.ID, PoolID: wk.PoolID, Image: wk.Image, Build: wk.Build, Provider: wk.Provider,
			State: wk.State, CreatedAt: wk.CreatedAt, LeasedAt: wk.LeasedAt, LastUsedAt: wk.LastUsedAt,
			DestroyAt: wk.DestroyAt, DestroyReason: wk.DestroyReason,
		}
		if withTenant {
			a.TenantID = wk.TenantID
		}
		out.Workers = append(out.Workers, a)
	}
	writeJSON(w, http.StatusOK, out)
}
