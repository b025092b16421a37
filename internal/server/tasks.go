package server

import (
	"context"
	"net/http"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
)

// taskListLimit is how many tasks GET /api/v1/tasks and the console's
// task list show: the newest ones.
const taskListLimit = 100

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTaskRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.taskSubmit(r.Context(), tenantOf(r), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

// taskSubmit starts a task for tenant (POST /api/v1/tasks and the
// console's run form).
func (s *Server) taskSubmit(ctx context.Context, tenant *store.Tenant, req *api.CreateTaskRequest) (api.Task, error) {
	t, err := s.runner.Submit(ctx, tenant, req)
	if err != nil {
		return api.Task{}, err
	}
	return s.taskAPI(t), nil
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	out, err := s.taskList(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.TaskList{Tasks: out})
}

// taskList returns the newest taskListLimit tasks of tenant tenantID,
// newest first.
func (s *Server) taskList(ctx context.Context, tenantID string) ([]api.Task, error) {
	ts, err := s.store.TaskList(ctx, &store.TaskListParams{TenantID: tenantID, Limit: taskListLimit})
	if err != nil {
		return nil, err
	}
	out := []api.Task{}
	for _, t := range ts {
		out = append(out, s.taskAPI(t))
	}
	return out, nil
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.taskGet(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err == nil {
		err = s.addVariables(r.Context(), &t)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// taskGet returns task id of tenant tenantID; another tenant's task
// answers 404, as an unknown one does.
func (s *Server) taskGet(ctx context.Context, tenantID, id string) (api.Task, error) {
	t, err := s.store.TaskGet(ctx, tenantID, id)
	if err != nil {
		return api.Task{}, notFoundOr(err, "task", id)
	}
	return s.taskAPI(t), nil
}

func (s *Server) cancelTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.taskCancel(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// taskCancel cancels task id of tenant tenantID.
func (s *Server) taskCancel(ctx context.Context, tenantID, id string) (api.Task, error) {
	t, err := s.runner.Cancel(ctx, tenantID, id)
	if err != nil {
		return api.Task{}, notFoundOr(err, "task", id)
	}
	return s.taskAPI(t), nil
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
	out, err := s.workerList(r.Context(), tenantID, all, withTenant)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.WorkerList{Workers: out})
}

// workerList returns the workers of tenantID ("" for every tenant's, with
// TenantID set when withTenant), oldest first; live ones only unless all.
func (s *Server) workerList(ctx context.Context, tenantID string, all, withTenant bool) ([]api.Worker, error) {
	p := &store.WorkerListParams{TenantID: tenantID}
	if !all {
		p.States = fleet.LiveStates
	}
	return s.workersAPI(ctx, p, withTenant)
}

// workersAPI returns the workers p selects as the API shows them, with
// TenantID set when withTenant.
func (s *Server) workersAPI(ctx context.Context, p *store.WorkerListParams, withTenant bool) ([]api.Worker, error) {
	ws, err := s.store.WorkerList(ctx, p)
	if err != nil {
		return nil, err
	}
	out := []api.Worker{}
	for _, wk := range ws {
		a := workerAPI(wk)
		if withTenant {
			a.TenantID = wk.TenantID
		}
		out = append(out, a)
	}
	return out, nil
}

// workerAPI returns wk as the API shows it to its tenant.
func workerAPI(wk *store.Worker) api.Worker {
	return api.Worker{
		ID: wk.ID, PoolID: wk.PoolID, Image: wk.Image, Build: wk.Build, Provider: wk.Provider,
		State: wk.State, CreatedAt: wk.CreatedAt, LeasedAt: wk.LeasedAt, LastUsedAt: wk.LastUsedAt,
		DestroyAt: wk.DestroyAt, DestroyReason: wk.DestroyReason,
		Name: wk.Name, LastHeartbeatAt: wk.LastHeartbeatAt, AgentVersion: wk.AgentVersion, Disabled: wk.Disabled,
		HealthCheck: workerHealthAPI(wk),
	}
}
