package server_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
)

// templateFile reads a step-template test file of package steptemplate.
func templateFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "steptemplate", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// secretDefaultTemplate has a sensitive parameter whose default is
// outputSecret: it must not show in the API nor in the database.
const secretDefaultTemplate = `{"Name": "Secret default", "ActionType": "Octopus.Script",
 "Properties": {"Octopus.Action.Script.Syntax": "Bash",
   "Octopus.Action.Script.ScriptBody": "echo \"secret is $(get_octopusvariable Db.Password), user #{Db.User}\""},
 "Parameters": [{"Name": "Db.Password", "DefaultValue": "out-S3cr3t-d00d5", "DisplaySettings": {"Octopus.ControlType": "Sensitive"}},
                {"Name": "Db.User", "DefaultValue": "admin"}]}`

// importTemplate imports data and fails the test on an error.
func importTemplate(t *testing.T, c *client.Client, data []byte) *api.StepTemplate {
	t.Helper()
	st, err := c.ImportStepTemplate(t.Context(), data)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return st
}

// TestStepTemplatesRunEndToEnd imports the test templates and runs a task
// of a Bash template (defaults and overrides, a sensitive parameter), a
// Python one, a plain step reading both templates' output variables and a
// template with a sensitive default, on the process provider. No
// sensitive value shows in the API, the task log or the database.
func TestStepTemplatesRunEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c, key := tenantWithTwoPools(t, s)
	hello := importTemplate(t, c, templateFile(t, "hello-bash.json"))
	if hello.Version != 3 || hello.Syntax != api.SyntaxBash || len(hello.Warnings) != 0 {
		t.Errorf("imported %+v, want version 3 of the file, bash, no warnings", hello)
	}
	report := importTemplate(t, c, templateFile(t, "report-python.json"))
	secret := importTemplate(t, c, []byte(secretDefaultTemplate))
	pwsh := importTemplate(t, c, templateFile(t, "check-pwsh.json"))
	if len(pwsh.Warnings) != 2 {
		t.Errorf("PowerShell template warnings = %q, want the package and the system variable", pwsh.Warnings)
	}

	created, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Name: "templates", Steps: []api.StepRequest{
		{Name: "hello", Template: &api.StepTemplateRef{ID: hello.ID, Parameters: map[string]string{
			"Target": "prod", "greeting.count": "2", "Api.Token": inputSecret}}},
		{Name: "report", Template: &api.StepTemplateRef{ID: report.ID, Version: 1, Parameters: map[string]string{
			"Report.Password": stepSecret}}},
		{Name: "after", Script: `echo "after: $Greeted / $ReportTitle"`},
		{Name: "secret", Template: &api.StepTemplateRef{ID: secret.ID}},
	}})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	task, lines := followTask(t, c, created.ID)
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	for _, want := range []string{
		`Step template: runs step template "Hello - Bash" version 3`,
		"hello world (1 of 2) at prod",
		"hello world (2 of 2) at prod",
		"token length 16, token ********",
		"literal #{Greeting.Name}",
		"Output variable Greeted set",
		"====================",
		"Weekly report",
		"password set: True",
		"greeted by the step before: world", // the Bash template's output variable
		"Output variable ReportTitle set",
		"after: world / Weekly report",
		"secret is ********, user admin",
	} {
		if !logHas(lines, "", want) {
			t.Errorf("task log lacks %q; log:\n%s", want, dump(lines))
		}
	}
	got, err := c.GetTask(t.Context(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps[0].Syntax != api.SyntaxBash || got.Steps[1].Syntax != api.SyntaxPython {
		t.Errorf("step syntaxes = %s, %s; want the templates'", got.Steps[0].Syntax, got.Steps[1].Syntax)
	}
	wantHello := []api.Variable{{Name: "Api.Token", Sensitive: true}, {Name: "Greeting.Count", Value: "2"},
		{Name: "Greeting.Name", Value: "world"}, {Name: "Target", Value: "prod"}}
	if !equalJSON(got.Steps[0].Variables, wantHello) {
		t.Errorf("step 1 variables = %+v, want the parameters, the token without value", got.Steps[0].Variables)
	}
	assertNoSecretsInAPI(t, s, key, task.ID)
	for _, path := range []string{"/api/v1/step-templates", "/api/v1/step-templates/" + secret.ID} {
		if body := rawGet(t, s.URL()+path, key); strings.Contains(body, outputSecret) {
			t.Errorf("GET %s shows the sensitive default", path)
		}
	}
	assertNoSecretsInFiles(t, s.dir)
}

// TestStepTemplatesImportRefusesBadFiles: a non-script action type and a
// malformed file answer 400 naming what is wrong; nothing is stored.
func TestStepTemplatesImportRefusesBadFiles(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	for _, tc := range []struct{ file, field, message string }{
		{"k8s-script.json", "ActionType", `"Octopus.KubernetesRunScript" is not supported`},
		{"bad-malformed.json", "", "not a step template in the library's JSON format"},
		{"bad-syntax.json", "Properties.Octopus.Action.Script.Syntax", `"CSharp" is not supported`},
	} {
		_, err := c.ImportStepTemplate(t.Context(), templateFile(t, tc.file))
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Field != tc.field || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: error = %v, want 400 %q on %q", tc.file, err, tc.message, tc.field)
		}
	}
	all, err := c.ListStepTemplates(t.Context())
	if err != nil || len(all) != 0 {
		t.Errorf("list = %+v, %v; want none stored", all, err)
	}
}

// TestStepTemplatesVersionsAndAnswers: versions count on, the same file
// twice is the same version, another content under a taken version is
// 409, and unknown ids and versions are 404.
func TestStepTemplatesVersionsAndAnswers(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c, key := tenantWithTwoPools(t, s)
	other := s.tenant(t, "other")
	report := templateFile(t, "report-python.json") // no Version: counted
	v1 := importTemplate(t, c, report)
	v2 := importTemplate(t, c, report)
	if v1.Version != 1 || v2.Version != 2 || v1.ID != v2.ID {
		t.Errorf("versions %d, %d of ids %s, %s; want 1, 2 of one id", v1.Version, v2.Version, v1.ID, v2.ID)
	}
	hello := templateFile(t, "hello-bash.json") // Version 3
	h1 := importTemplate(t, c, hello)
	h2 := importTemplate(t, c, hello)
	if h1.Version != 3 || h2.Version != 3 || h1.ID != h2.ID {
		t.Errorf("the same file twice = %d, %d; want version 3 both times", h1.Version, h2.Version)
	}
	changed := strings.Replace(string(hello), "Greets someone", "Greets anyone", 1)
	_, err := c.ImportStepTemplate(t.Context(), []byte(changed))
	wantStatus(t, "other content under version 3", err, http.StatusConflict, "version 3 of step template \"Hello - Bash\" exists with other content")

	list, err := c.ListStepTemplates(t.Context())
	if err != nil || len(list) != 2 || list[0].Name != "Hello - Bash" || list[1].Version != 2 {
		t.Errorf("list = %+v, %v; want Hello (3) and Report (2)", list, err)
	}
	got, err := c.GetStepTemplate(t.Context(), v1.ID, 1)
	if err != nil || got.Version != 1 || len(got.Parameters) != 3 || got.ScriptBody == "" {
		t.Errorf("get version 1 = %+v, %v", got, err)
	}
	_, err = c.GetStepTemplate(t.Context(), v1.ID, 9)
	wantStatus(t, "unknown version", err, http.StatusNotFound, "version 9")
	_, err = other.GetStepTemplate(t.Context(), v1.ID, 0)
	wantStatus(t, "another tenant's template", err, http.StatusNotFound, "no step template")
	wantStatus(t, "delete by another tenant", other.DeleteStepTemplate(t.Context(), v1.ID), http.StatusNotFound, "no step template")
	if err := c.DeleteStepTemplate(t.Context(), v1.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStepTemplate(t.Context(), v1.ID, 0)
	wantStatus(t, "deleted template", err, http.StatusNotFound, "no step template")
	if got := getStatus(t, s.URL()+"/api/v1/step-templates/"+h1.ID+"?version=x", key); got != http.StatusBadRequest {
		t.Errorf("?version=x answered %d, want 400", got)
	}
}

// wantStatus fails t unless err is an API error of status whose message
// contains text.
func wantStatus(t *testing.T, what string, err error, status int, text string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || !strings.Contains(e.Message, text) {
		t.Errorf("%s: error = %v, want %d with %q", what, err, status, text)
	}
}

// getStatus returns the status of GET url with API key key.
func getStatus(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A template that calls fail_step fails its step with the message in the
// log, and the task with it.
func TestStepTemplateFailStep(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	tmpl := importTemplate(t, c, []byte(`{"Name": "Gate", "ActionType": "Octopus.Script",
 "Properties": {"Octopus.Action.Script.Syntax": "Bash",
   "Octopus.Action.Script.ScriptBody": "echo checking\nfail_step \"deploy blocked: #{Reason}\"\necho never"},
 "Parameters": [{"Name": "Reason", "DefaultValue": "change freeze"}]}`))
	task, lines := runTask(t, c, api.StepRequest{Name: "gate", Template: &api.StepTemplateRef{ID: tmpl.ID}})
	if task.State != api.StateFailed || task.Steps[0].ExitCode == nil || *task.Steps[0].ExitCode != 1 {
		t.Fatalf("task = %s, step %+v; want failed with exit code 1; log:\n%s", task.State, task.Steps[0], dump(lines))
	}
	if !logHas(lines, api.LevelWarning, "deploy blocked: change freeze") || logHas(lines, "", "never") {
		t.Errorf("log does not show fail_step's message (and nothing after it):\n%s", dump(lines))
	}
}
