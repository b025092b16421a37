package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/steptemplate"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
	"github.com/dynpool/dynpool/internal/variable"
)

// templateSteps is what expanding the template steps of a request adds
// beyond script and syntax, by step index.
type templateSteps struct {
	// params are the parameter values of each template step, which reach
	// its script as step variables of the parameter's name (sensitive
	// ones sealed and masked like any sensitive variable).
	params map[int][]api.Variable
	// warnings go to the task log once the task is written.
	warnings map[int][]string
}

// expandTemplates returns a copy of req in which each step that names a
// step template has the template's syntax and script, its non-sensitive
// parameters and variables substituted for #{Name}. Bad input (an
// unknown template or parameter, a parameter without value, a script as
// well as a template) is a *validation.Error naming the field.
func (r *Runner) expandTemplates(ctx context.Context, t *store.Tenant, req *api.CreateTaskRequest) (*api.CreateTaskRequest, *templateSteps, error) {
	ts := &templateSteps{params: map[int][]api.Variable{}, warnings: map[int][]string{}}
	out := *req
	out.Steps = slices.Clone(req.Steps)
	for i := range out.Steps {
		sr := &out.Steps[i]
		if sr.Template == nil {
			continue
		}
		script, params, warnings, err := r.expandTemplate(ctx, t, i, req.Variables, sr)
		if err != nil {
			return nil, nil, err
		}
		sr.Script, sr.Syntax = script.ScriptBody, script.Syntax
		sr.Template = nil
		ts.params[i], ts.warnings[i] = params, warnings
	}
	return &out, ts, nil
}

// expandTemplate resolves step i's template: the template version with
// its body substituted, the parameter values and the warnings.
func (r *Runner) expandTemplate(ctx context.Context, t *store.Tenant, i int, taskVars []api.Variable, sr *api.StepRequest) (*store.StepTemplate, []api.Variable, []string, error) {
	field := fmt.Sprintf("steps[%d].template", i)
	ref := sr.Template
	switch {
	case sr.Script != "" || sr.Syntax != "":
		return nil, nil, nil, validation.Errorf(field, "a step gives a script and syntax or a template, not both")
	case ref.ID == "":
		return nil, nil, nil, validation.Errorf(field+".id", "names no step template")
	case ref.Version < 0:
		return nil, nil, nil, validation.Errorf(field+".version", "is negative")
	}
	st, err := r.store.StepTemplateGet(ctx, t.ID, ref.ID, ref.Version)
	if errors.Is(err, store.ErrNotFound) {
		if ref.Version > 0 {
			return nil, nil, nil, validation.Errorf(field+".id", "no step template with id %q and version %d", ref.ID, ref.Version)
		}
		return nil, nil, nil, validation.Errorf(field+".id", "no step template with id %q", ref.ID)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get step template %s: %w", ref.ID, err)
	}
	params, err := r.templateParams(t, field, st, sr)
	if err != nil {
		return nil, nil, nil, err
	}
	// #{Name} sees the task's variables, the step's, then the parameters.
	values := map[string]steptemplate.Value{}
	for _, list := range [][]api.Variable{taskVars, sr.Variables, params} {
		for _, v := range list {
			values[v.Name] = steptemplate.Value{Value: v.Value, Sensitive: v.Sensitive}
		}
	}
	body, warnings, err := steptemplate.Substitute(field, st.ScriptBody, values)
	if err != nil {
		return nil, nil, nil, err
	}
	if names := steptemplate.SystemVariables(st.ScriptBody); len(names) > 0 {
		warnings = append(warnings, steptemplate.SystemVariablesWarning(names))
	}
	warnings = append([]string{fmt.Sprintf("runs step template %q version %d (%s)", st.Name, st.Version, st.ID)}, warnings...)
	out := *st
	out.ScriptBody = body
	return &out, params, warnings, nil
}

// templateParams returns the value of each parameter of st for step sr:
// the one given, else the default (a sensitive default opened).
func (r *Runner) templateParams(t *store.Tenant, field string, st *store.StepTemplate, sr *api.StepRequest) ([]api.Variable, error) {
	byName := map[string]*store.StepTemplateParameter{}
	var names []string
	for k := range st.Parameters {
		p := &st.Parameters[k]
		byName[strings.ToLower(p.Name)] = p
		names = append(names, p.Name)
	}
	given := map[string]string{}
	for name, value := range sr.Template.Parameters {
		f := field + ".parameters." + name
		p, ok := byName[strings.ToLower(name)]
		if !ok {
			if len(names) == 0 {
				return nil, validation.Errorf(f, "template %q has no parameters", st.Name)
			}
			return nil, validation.Errorf(f, "template %q has no parameter %q (it has %s)", st.Name, name, strings.Join(names, ", "))
		}
		if _, dup := given[p.Name]; dup {
			return nil, validation.Errorf(f, "parameter %q is given twice", p.Name)
		}
		if len(value) > variable.MaxValueSize {
			return nil, validation.Errorf(f, "is longer than %d bytes", variable.MaxValueSize)
		}
		if err := validation.Text(f, value); err != nil {
			return nil, err
		}
		given[p.Name] = value
	}
	var out []api.Variable
	for _, p := range st.Parameters {
		value, ok := given[p.Name]
		switch {
		case ok:
		case p.HasDefault && p.Sensitive:
			plain, err := r.cfg.Secrets.Open(p.DefaultValue, steptemplate.DefaultPlace(t.ID, st.Name, p.Name))
			if err != nil {
				return nil, fmt.Errorf("the default of sensitive parameter %s of step template %s cannot be decrypted (was the server's secret key changed?): %w", p.Name, st.Name, err)
			}
			value = plain
		case p.HasDefault:
			value = p.DefaultValue
		default:
			return nil, validation.Errorf(field+".parameters."+p.Name, "parameter %q of template %q has no value and no default: give one", p.Name, st.Name)
		}
		for k, v := range sr.Variables {
			if strings.EqualFold(v.Name, p.Name) {
				return nil, validation.Errorf(fmt.Sprintf("%s[%d].name", strings.TrimSuffix(field, ".template")+".variables", k),
					"%q is also a parameter of template %q: give it in template.parameters", v.Name, st.Name)
			}
		}
		out = append(out, api.Variable{Name: p.Name, Value: value, Sensitive: p.Sensitive})
	}
	return out, nil
}

// logTemplateWarnings writes the warnings of task's template steps to its
// log.
func (r *Runner) logTemplateWarnings(ctx context.Context, task *store.Task, ts *templateSteps) {
	for i, s := range task.Steps {
		for k, w := range ts.warnings[i] {
			level := api.LevelWarning
			if k == 0 {
				level = api.LevelInfo // which template runs
			}
			r.log(ctx, task.ID, s.Name, level, "Step template: %s", w)
		}
	}
}
