package task_test

import (
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
	"github.com/dynpool/dynpool/internal/variable"
)

// storeTemplate stores a bash template "Greet" of the harness's tenant:
// Who (default "world"), Target (required), Token (sensitive, default
// sealed as given) and a body of body.
func storeTemplate(t *testing.T, h *harness, id, body, sealedDefault string) {
	t.Helper()
	err := h.store.StepTemplateCreate(t.Context(), &store.StepTemplate{ID: id, TenantID: h.tenant.ID, Name: "Greet " + id,
		Syntax: "bash", ScriptBody: body, CreatedAt: h.clock.Now(), Parameters: []store.StepTemplateParameter{
			{Name: "Who", DefaultValue: "world", HasDefault: true},
			{Name: "Target"},
			{Name: "Token", DefaultValue: sealedDefault, HasDefault: sealedDefault != "", Sensitive: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTemplateStepsAnswer400NamingTheField: every mistake in a step that
// names a template is a validation error on its field, and nothing runs.
func TestTemplateStepsAnswer400NamingTheField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	storeTemplate(t, h, "st-1", "echo #{Who} $(get_octopusvariable Token)", "")
	storeTemplate(t, h, "st-secret", "echo #{Token}", "")
	ref := func(id string, params map[string]string) *api.StepTemplateRef {
		return &api.StepTemplateRef{ID: id, Parameters: params}
	}
	ok := map[string]string{"Target": "prod", "Token": "x"}
	tests := []struct {
		name, field, message string
		step                 api.StepRequest
	}{
		{"script and template", "steps[0].template", "not both", api.StepRequest{Script: "true", Template: ref("st-1", ok)}},
		{"no id", "steps[0].template.id", "names no step template", api.StepRequest{Template: ref("", ok)}},
		{"negative version", "steps[0].template.version", "negative", api.StepRequest{Template: &api.StepTemplateRef{ID: "st-1", Version: -1}}},
		{"unknown template", "steps[0].template.id", `no step template with id "nope"`, api.StepRequest{Template: ref("nope", ok)}},
		{"unknown version", "steps[0].template.id", "and version 9", api.StepRequest{Template: &api.StepTemplateRef{ID: "st-1", Version: 9, Parameters: ok}}},
		{"unknown parameter", "steps[0].template.parameters.Nope", `has no parameter "Nope" (it has Who, Target, Token)`,
			api.StepRequest{Template: ref("st-1", map[string]string{"Target": "a", "Token": "b", "Nope": "c"})}},
		{"a parameter twice", "steps[0].template.parameters.", `"Target" is given twice`,
			api.StepRequest{Template: ref("st-1", map[string]string{"Target": "a", "target": "b", "Token": "c"})}},
		{"value too long", "steps[0].template.parameters.Target", "longer than",
			api.StepRequest{Template: ref("st-1", map[string]string{"Target": strings.Repeat("a", variable.MaxValueSize+1), "Token": "x"})}},
		{"NUL in a value", "steps[0].template.parameters.Target", "NUL",
			api.StepRequest{Template: ref("st-1", map[string]string{"Target": "a\x00b", "Token": "x"})}},
		{"no value and no default", "steps[0].template.parameters.Target", `parameter "Target" of template "Greet st-1" has no value and no default`,
			api.StepRequest{Template: ref("st-1", map[string]string{"Token": "x"})}},
		{"a step variable of a parameter's name", "steps[0].variables[0].name", `"target" is also a parameter`,
			api.StepRequest{Template: ref("st-1", ok), Variables: []api.Variable{{Name: "target", Value: "x"}}}},
		{"a sensitive parameter substituted", "steps[0].template", "substitutes the sensitive parameter Token",
			api.StepRequest{Template: ref("st-secret", ok)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{Steps: []api.StepRequest{tt.step}})
			v, isValidation := validation.As(err)
			if !isValidation || !strings.HasPrefix(v.Field, tt.field) || !strings.Contains(v.Message, tt.message) {
				t.Errorf("Submit error = %v, want %q on %q", err, tt.message, tt.field)
			}
		})
	}
	tasks, err := h.store.TaskList(t.Context(), &store.TaskListParams{TenantID: h.tenant.ID, Limit: 10})
	if err != nil || len(tasks) != 0 {
		t.Errorf("tasks = %d, %v; want none written", len(tasks), err)
	}
}

// TestTemplateStepWithAnUnopenableDefaultIsRefused stands for a server
// whose secret key changed since the template was imported: the task is
// refused naming the parameter, not run without its value.
func TestTemplateStepWithAnUnopenableDefaultIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	storeTemplate(t, h, "st-1", "echo #{Who}", "v1:c2VhbGVkIHdpdGggYW5vdGhlciBrZXkgYnkgc29tZWJvZHk=")
	_, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{Steps: []api.StepRequest{
		{Template: &api.StepTemplateRef{ID: "st-1", Parameters: map[string]string{"Target": "prod"}}}}})
	if _, isValidation := validation.As(err); err == nil || isValidation || !strings.Contains(err.Error(), "sensitive parameter Token of step template Greet st-1 cannot be decrypted") {
		t.Fatalf("Submit error = %v, want a server error naming the parameter", err)
	}
}

// TestTemplateStepWarnsInTheTaskLog: unknown #{...} references and
// Octopus system variables are left as they are and warned about.
func TestTemplateStepWarnsInTheTaskLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	storeTemplate(t, h, "st-1", `echo #{Who} #{Nope} $(get_octopusvariable "Octopus.Release.Number")`, "")
	tk, err := h.runner.Submit(t.Context(), h.tenant, &api.CreateTaskRequest{
		Variables: []api.Variable{{Name: "Who", Value: "task-level"}},
		Steps: []api.StepRequest{{Name: "greet", Template: &api.StepTemplateRef{ID: "st-1",
			Parameters: map[string]string{"Target": "prod", "Token": "t0k3n-S3cret"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.store.TaskGet(t.Context(), "", tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Steps[0]; s.Syntax != "bash" || s.Script != `echo world #{Nope} $(get_octopusvariable "Octopus.Release.Number")` {
		t.Errorf("step = %s %q, want the parameter (not the task variable) substituted", s.Syntax, s.Script)
	}
	log := logOf(t, h.store, tk.ID)
	for _, want := range []string{
		`Step template: runs step template "Greet st-1" version 1 (st-1)`,
		"Step template: #{Nope} names no parameter or variable of the step; it is left in the script as is",
		"Step template: the script reads Octopus system variable(s) Octopus.Release.Number, which dynpool does not set",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("task log lacks %q:\n%s", want, log)
		}
	}
	vs, err := h.store.VariableList(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if strings.Contains(v.Value, "t0k3n-S3cret") {
			t.Errorf("variable %s is stored in plain text", v.Name)
		}
	}
}
