package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// templateTestdata is the step-template test files of package steptemplate.
const templateTestdata = "../../internal/steptemplate/testdata"

// fakeImport answers POST /api/v1/step-templates on f as the server does
// for the test files: refusing a non-script action type and malformed
// JSON. It reads the body f recorded (f reads it first).
func fakeImport(f *fakeAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		b := []byte(f.calls[len(f.calls)-1].body)
		f.mu.Unlock()
		var doc map[string]any
		switch {
		case json.Unmarshal(b, &doc) != nil:
			jsonAnswer(400, `{"error":{"code":"invalid_argument","message":"not a step template in the library's JSON format: unexpected end of JSON input"}}`)(w, r)
		case doc["ActionType"] != "Octopus.Script":
			jsonAnswer(400, `{"error":{"code":"invalid_argument","field":"ActionType","message":"\"Octopus.KubernetesRunScript\" is not supported"}}`)(w, r)
		default:
			jsonAnswer(201, `{"id":"stpl_1","name":"`+doc["Name"].(string)+`","version":3,"syntax":"bash","warnings":["careful"]}`)(w, r)
		}
	}
}

// newFakeImportAPI is a fake API that answers imports with fakeImport.
func newFakeImportAPI(t *testing.T) *fakeAPI {
	routes := map[string]http.HandlerFunc{}
	f := newFakeAPI(t, routes)
	routes["POST /api/v1/step-templates"] = fakeImport(f)
	return f
}

func TestTemplatesImportReportsEachFile(t *testing.T) {
	t.Parallel()
	f := newFakeImportAPI(t)
	good := filepath.Join(templateTestdata, "hello-bash.json")
	k8s := filepath.Join(templateTestdata, "k8s-script.json")
	bad := filepath.Join(templateTestdata, "bad-malformed.json")
	missing := filepath.Join(t.TempDir(), "missing.json")
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "templates", "import", good, k8s, bad, missing)
	if code != 1 {
		t.Errorf("exit %d, want 1 (some refused); stderr %s", code, errOut)
	}
	for _, want := range []string{
		good + `: imported stpl_1 "Hello - Bash" version 3` + "\n" + good + ": warning: careful\n",
		k8s + `: refused: ActionType: "Octopus.KubernetesRunScript" is not supported` + "\n",
		bad + ": refused: not a step template in the library's JSON format: unexpected end of JSON input\n",
		missing + ": refused: open " + missing + ": no such file or directory\n",
		"1 imported, 3 refused\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := len(f.called("POST /api/v1/step-templates")); n != 3 {
		t.Errorf("%d imports sent, want 3 (not the missing file)", n)
	}
	raw, _ := os.ReadFile(bad)
	if calls := f.called("POST /api/v1/step-templates"); len(calls) == 3 && calls[2].body != string(raw) {
		t.Errorf("the malformed file was sent as %q, want it as it is", calls[2].body)
	}
}

func TestTemplatesImportADirectoryAsJSON(t *testing.T) {
	t.Parallel()
	f := newFakeImportAPI(t)
	dir := t.TempDir()
	for _, name := range []string{"hello-bash.json", "report-python.json"} {
		b, err := os.ReadFile(filepath.Join(templateTestdata, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "-o", "json", "templates", "import", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []importResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(got) != 2 || got[0].Name != "Hello - Bash" || got[1].Name != "Report - Python" || got[0].Error != "" {
		t.Errorf("results = %+v, want both imported in name order", got)
	}

	empty := t.TempDir()
	if code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "templates", "import", empty); code != 1 || !strings.Contains(errOut, "holds no *.json file") {
		t.Errorf("empty directory: exit %d, stderr %q; want 1 naming it", code, errOut)
	}
}

func TestTemplatesCommands(t *testing.T) {
	t.Parallel()
	one := `{"id":"stpl_1","name":"Hello","version":3,"syntax":"bash","description":"says hi","script_body":"echo hi\n",
	 "parameters":[{"name":"Who","label":"Name","default_value":"world","has_default":true},
	               {"name":"Token","has_default":true,"sensitive":true},{"name":"Target","has_default":false}]}`
	tests := []struct {
		name, route, wantOut string
		args                 []string
	}{
		{"list", "GET /api/v1/step-templates", "ID      NAME   VERSION  SYNTAX  PARAMETERS\nstpl_1  Hello  3        bash    Who, Token\n",
			[]string{"templates", "list"}},
		{"show", "GET /api/v1/step-templates/stpl_1?version=3",
			"PARAMETER  LABEL  DEFAULT     SENSITIVE\nWho        Name   world       no\nToken      -      (hidden)    yes\nTarget     -      (required)  no\nScript:\necho hi\n",
			[]string{"templates", "show", "stpl_1", "--version", "3"}},
		{"show json", "GET /api/v1/step-templates/stpl_1", `"script_body": "echo hi\n"`, []string{"-o", "json", "templates", "show", "stpl_1"}},
		{"delete", "DELETE /api/v1/step-templates/stpl_1", "step template stpl_1 deleted\n", []string{"templates", "delete", "stpl_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/step-templates":           jsonAnswer(200, `{"step_templates":[{"id":"stpl_1","name":"Hello","version":3,"syntax":"bash","parameter_names":["Who","Token"]}]}`),
				"GET /api/v1/step-templates/stpl_1":    jsonAnswer(200, one),
				"DELETE /api/v1/step-templates/stpl_1": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			})
			checkCommand(t, f, tt.args, tt.route, "", tt.wantOut)
		})
	}
}
