package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dynpool/dynpool/api"
)

// taskForm is what the run form was filled with.
type taskForm struct {
	Name, Pool, Syntax, Script string
}

// tasksView is the content of the task list.
type tasksView struct {
	Tasks  []api.Task
	Pools  []api.Pool
	Form   taskForm
	Error  string
	Syntax []string
}

func (c *Console) taskList(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderTasks(w, r, s, http.StatusOK, taskForm{Syntax: api.SyntaxBash}, "")
}

func (c *Console) renderTasks(w http.ResponseWriter, r *http.Request, s *session, status int, f taskForm, msg string) {
	tasks, err := c.cfg.Backend.Tasks(r.Context(), s.Tenant.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	pools, err := c.cfg.Backend.Pools(r.Context(), s.Tenant.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, status, "tasks", view{Title: "Tasks", Nav: "tasks", Session: s, Data: tasksView{
		Tasks: tasks, Pools: pools, Form: f, Error: msg,
		Syntax: []string{api.SyntaxBash, api.SyntaxSh, api.SyntaxPython, api.SyntaxPowerShell},
	}})
}

// taskSubmit runs a one-step task from the run form, through the same
// submit as POST /api/v1/tasks; a refused task shows the form again with
// why.
func (c *Console) taskSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	f := taskForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), Pool: r.PostFormValue("pool"),
		Syntax: r.PostFormValue("syntax"), Script: strings.ReplaceAll(r.PostFormValue("script"), "\r\n", "\n"),
	}
	t, err := c.cfg.Backend.SubmitTask(r.Context(), s.Tenant.ID, &api.CreateTaskRequest{
		Name:  f.Name,
		Steps: []api.StepRequest{{Name: "Run script", Pool: f.Pool, Syntax: f.Syntax, Script: f.Script}},
	})
	if err != nil {
		status, e := c.cfg.Backend.Describe(err)
		if status >= 500 {
			c.fail(w, r, s, err)
			return
		}
		c.renderTasks(w, r, s, status, f, e.Message)
		return
	}
	http.Redirect(w, r, "/console/tasks/"+url.PathEscape(t.ID), http.StatusSeeOther)
}

// taskView is the content of a task's page.
type taskView struct {
	Task      api.Task
	Lines     []api.LogLine
	PoolNames map[string]string
	// Running is true until the task has finished; the page then follows
	// its log from line After on.
	Running bool
	After   int64
}

func (c *Console) taskPage(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	t, err := c.cfg.Backend.Task(r.Context(), s.Tenant.ID, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	lines, err := c.cfg.Backend.TaskLog(r.Context(), s.Tenant.ID, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	pools, err := c.cfg.Backend.Pools(r.Context(), s.Tenant.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v := taskView{Task: t, Lines: lines, PoolNames: map[string]string{}, Running: t.FinishedAt == nil}
	for _, p := range pools {
		v.PoolNames[p.ID] = p.Name
	}
	if n := len(lines); n > 0 {
		v.After = lines[n-1].Seq
	}
	c.render(w, r, http.StatusOK, "task", view{Title: t.Name, Nav: "tasks", Session: s, Data: v})
}

// taskLogStream follows a task's log as server-sent events for the task
// page's script, through the same stream as GET
// /api/v1/tasks/{id}/log?follow=true.
func (c *Console) taskLogStream(w http.ResponseWriter, r *http.Request, s *session) {
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.renderError(w, r, s, http.StatusBadRequest, "after="+v+" is not a line number.")
			return
		}
		after = n
	}
	c.cfg.Backend.StreamLog(w, r, s.Tenant.ID, r.PathValue("id"), after)
}

func (c *Console) taskCancel(w http.ResponseWriter, r *http.Request, s *session) {
	t, err := c.cfg.Backend.CancelTask(r.Context(), s.Tenant.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/tasks/"+url.PathEscape(t.ID), http.StatusSeeOther)
}
