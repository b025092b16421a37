package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/steptemplate"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// createStepTemplate stores a file of the community step-template library
// as the next version of the tenant's template of its name: 201 with the
// template, 200 with the stored version when the same file was imported
// already, 400 naming what is wrong with the file, 409 when the file's
// Version exists with other content.
func (s *Server) createStepTemplate(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("read step template: %w", err))
		return
	}
	tenant := tenantOf(r)
	st, warnings, err := steptemplate.Parse(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st.ID, st.TenantID, st.CreatedAt = id.New("stpl"), tenant.ID, s.cfg.Clock.Now()
	st.Digest = steptemplate.Digest(st)
	for i, p := range st.Parameters {
		if p.Sensitive && p.HasDefault {
			st.Parameters[i].DefaultValue = s.secrets.Seal(p.DefaultValue, steptemplate.DefaultPlace(tenant.ID, st.Name, p.Name))
		}
	}
	status := http.StatusCreated
	err = s.store.StepTemplateCreate(r.Context(), st)
	if errors.Is(err, store.ErrConflict) {
		status = http.StatusOK
		st, err = s.sameStepTemplate(r.Context(), tenant.ID, st)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "step template stored", "tenant_id", tenant.ID,
		"step_template_id", st.ID, "name", st.Name, "version", st.Version)
	if status == http.StatusCreated {
		s.record(r.Context(), tenant.ID, "step_template.create", st.ID, fmt.Sprintf("%s version %d", st.Name, st.Version))
	}
	out := stepTemplateAPI(st, true)
	out.Warnings = warnings
	writeJSON(w, status, out)
}

// sameStepTemplate returns the stored version of st's name and version
// when its content is st's; otherwise a 409 saying so.
func (s *Server) sameStepTemplate(ctx context.Context, tenantID string, st *store.StepTemplate) (*store.StepTemplate, error) {
	all, err := s.store.StepTemplateList(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, have := range all {
		if have.Name != st.Name {
			continue
		}
		old, err := s.store.StepTemplateGet(ctx, tenantID, have.ID, st.Version)
		if err != nil {
			return nil, fmt.Errorf("get step template %s version %d: %w", have.ID, st.Version, err)
		}
		if old.Digest == st.Digest {
			return old, nil
		}
		return nil, conflict(store.ErrConflict, "version %d of step template %q exists with other content: change the file's Version, or remove it to count on from version %d",
			st.Version, st.Name, have.Version)
	}
	return nil, conflict(store.ErrConflict, "step template %q was changed meanwhile: try again", st.Name)
}

func (s *Server) listStepTemplates(w http.ResponseWriter, r *http.Request) {
	all, err := s.store.StepTemplateList(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.StepTemplateList{StepTemplates: []api.StepTemplate{}}
	for _, st := range all {
		out.StepTemplates = append(out.StepTemplates, stepTemplateAPI(st, false))
	}
	writeJSON(w, http.StatusOK, out)
}

// getStepTemplate answers the newest version, or ?version=N.
func (s *Server) getStepTemplate(w http.ResponseWriter, r *http.Request) {
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, validation.Errorf("version", "%q is not a version number", v))
			return
		}
		version = n
	}
	id := r.PathValue("id")
	st, err := s.store.StepTemplateGet(r.Context(), tenantOf(r).ID, id, version)
	switch {
	case errors.Is(err, store.ErrNotFound) && version > 0:
		s.writeError(w, r, notFound(err, "no step template with id %q and version %d", id, version))
		return
	case err != nil:
		s.writeError(w, r, notFoundOr(err, "step template", id))
		return
	}
	writeJSON(w, http.StatusOK, stepTemplateAPI(st, true))
}

func (s *Server) deleteStepTemplate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.store.StepTemplateDelete(r.Context(), tenantOf(r).ID, id); err != nil {
		s.writeError(w, r, notFoundOr(err, "step template", id))
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "step template deleted", "tenant_id", tenantOf(r).ID, "step_template_id", id)
	s.record(r.Context(), tenantOf(r).ID, "step_template.delete", id, "")
	w.WriteHeader(http.StatusNoContent)
}

// stepTemplateAPI is st as the API shows it: with parameters and script
// when full, else parameter names only; never a sensitive default.
func stepTemplateAPI(st *store.StepTemplate, full bool) api.StepTemplate {
	out := api.StepTemplate{ID: st.ID, Name: st.Name, Version: st.Version, Description: st.Description,
		Syntax: st.Syntax, CreatedAt: st.CreatedAt}
	for _, p := range st.Parameters {
		out.ParameterNames = append(out.ParameterNames, p.Name)
		if !full {
			continue
		}
		q := api.StepTemplateParameter{Name: p.Name, Label: p.Label, HelpText: p.HelpText, DefaultValue: p.DefaultValue,
			HasDefault: p.HasDefault, Sensitive: p.Sensitive, ControlType: p.ControlType}
		if p.Sensitive {
			q.DefaultValue = ""
		}
		out.Parameters = append(out.Parameters, q)
	}
	if full {
		out.ScriptBody = st.ScriptBody
	}
	return out
}
