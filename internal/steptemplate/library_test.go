package steptemplate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseReadsTheLibraryFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file         string
		name, syntax string
		version      int
		params       []store.StepTemplateParameter
		warnings     []string
	}{
		{"hello-bash.json", "Hello - Bash", "bash", 3, []store.StepTemplateParameter{
			{Name: "Greeting.Name", Label: "Name", HelpText: "Who to greet.", DefaultValue: "world", HasDefault: true, ControlType: "SingleLineText"},
			{Name: "Greeting.Count", Label: "Count", HelpText: "How many times.", DefaultValue: "1", HasDefault: true, ControlType: "SingleLineText"},
			{Name: "Target", Label: "Target", HelpText: "Where the greeting goes; required.", ControlType: "SingleLineText"},
			{Name: "Api.Token", Label: "API token", HelpText: "A secret the script reads with get_octopusvariable.", Sensitive: true, ControlType: "Sensitive"},
		}, nil},
		{"report-python.json", "Report - Python", "python", 0, []store.StepTemplateParameter{
			{Name: "Report.Title", Label: "Title", HelpText: "The report's title.", DefaultValue: "Weekly report", HasDefault: true, ControlType: "SingleLineText"},
			{Name: "Report.Width", Label: "Width", HelpText: "Width of the rule.", DefaultValue: "20", HasDefault: true},
			{Name: "Report.Password", Label: "Password", HelpText: "Listed in SensitiveProperties.", Sensitive: true},
		}, nil},
		{"check-pwsh.json", "Check URL - PowerShell", "pwsh", 12, []store.StepTemplateParameter{
			{Name: "Check.Url", Label: "URL", HelpText: "What to check.", DefaultValue: "https://example.invalid/health", HasDefault: true, ControlType: "SingleLineText"},
		}, []string{
			"the template references 1 package(s); dynpool does not fetch packages, the script runs without them",
			"the script reads Octopus system variable(s) Octopus.Environment.Name, which dynpool does not set: they read as empty",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, warnings, err := Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Name != tt.name || got.Syntax != tt.syntax || got.Version != tt.version || got.ScriptBody == "" || got.LibraryID == "" && tt.file != "report-python.json" {
				t.Errorf("Parse = name %q syntax %q version %d library id %q, want %q %q %d", got.Name, got.Syntax, got.Version, got.LibraryID, tt.name, tt.syntax, tt.version)
			}
			if !reflect.DeepEqual(got.Parameters, tt.params) {
				t.Errorf("parameters =\n%+v\nwant\n%+v", got.Parameters, tt.params)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func TestParseRefusesWhatItCannotRunNamingTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, field, message string
	}{
		{"k8s-script.json", "ActionType", `"Octopus.KubernetesRunScript" is not supported`},
		{"bad-malformed.json", "", "not a step template in the library's JSON format: unexpected end of JSON input"},
		{"bad-syntax.json", "Properties.Octopus.Action.Script.Syntax", `"CSharp" is not supported`},
		{"bad-nobody.json", "Properties.Octopus.Action.Script.ScriptBody", "missing or empty"},
		{"bad-noname.json", "Name", "no name"},
		{"bad-duplicate-parameter.json", "Parameters[1].Name", `"a" is given twice`},
		{"bad-package-source.json", "Properties.Octopus.Action.Script.ScriptSource", `"Package" is not supported`},
		{"bad-version.json", "Version", "not a whole number"},
		{"bad-reserved-parameter.json", "Parameters[0].Name", "starts with DYNPOOL_"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, _, err := Parse(readTestdata(t, tt.file))
			v, ok := validation.As(err)
			if !ok {
				t.Fatalf("Parse error = %v, want a validation error", err)
			}
			if v.Field != tt.field || !strings.Contains(v.Message, tt.message) {
				t.Errorf("Parse error = %q on %q, want %q on %q", v.Message, v.Field, tt.message, tt.field)
			}
		})
	}
}

func TestParseRefusesOtherMistakes(t *testing.T) {
	t.Parallel()
	base := `"Name": "x", "ActionType": "Octopus.Script", "Properties": {"Octopus.Action.Script.Syntax": "Bash", "Octopus.Action.Script.ScriptBody": "true"}`
	tests := []struct{ name, doc, field string }{
		{"no action type", `{"Name": "x"}`, "ActionType"},
		{"body not a string", `{"Name": "x", "ActionType": "Octopus.Script", "Properties": {"Octopus.Action.Script.ScriptBody": 1}}`, "Properties.Octopus.Action.Script.ScriptBody"},
		{"sensitive properties a number", `{` + base + `, "SensitiveProperties": 3}`, "SensitiveProperties"},
		{"default an object", `{` + base + `, "Parameters": [{"Name": "A", "DefaultValue": {}}]}`, "Parameters[0].DefaultValue"},
		{"parameter without name", `{` + base + `, "Parameters": [{"Label": "A"}]}`, "Parameters[0].Name"},
		{"parameter with a brace", `{` + base + `, "Parameters": [{"Name": "A}"}]}`, "Parameters[0].Name"},
		{"NUL in the file", `{` + base + `, "Description": "a\u0000b"}`, "Description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Parse([]byte(tt.doc))
			v, ok := validation.As(err)
			if !ok || v.Field != tt.field {
				t.Errorf("Parse error = %v, want a validation error on %q", err, tt.field)
			}
		})
	}
}

func TestParseAcceptsVariants(t *testing.T) {
	t.Parallel()
	got, warnings, err := Parse([]byte("\xef\xbb\xbf" + `{"Name": "x", "Version": "4", "ActionType": "Octopus.Script",
		"Properties": {"Octopus.Action.Script.ScriptBody": "Write-Host 1"},
		"SensitiveProperties": ["P"], "Parameters": [{"Name": "P", "DefaultValue": true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Syntax != "pwsh" || got.Version != 4 || !got.Parameters[0].Sensitive || got.Parameters[0].DefaultValue != "true" {
		t.Errorf("Parse = %+v", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "PowerShell assumed") {
		t.Errorf("warnings = %q, want the assumed syntax", warnings)
	}
	again, _, _ := Parse([]byte(`{"Name": "x", "Version": 4, "ActionType": "Octopus.Script",
		"Properties": {"Octopus.Action.Script.ScriptBody": "Write-Host 1"},
		"SensitiveProperties": {"P": ""}, "Parameters": [{"Name": "P", "DefaultValue": "true"}]}`))
	if d := Digest(got); len(d) != 64 || d != Digest(again) {
		t.Errorf("Digest differs between two spellings of one template: %s, %s", d, Digest(again))
	}
	again.ScriptBody += "\n"
	if Digest(got) == Digest(again) {
		t.Error("Digest does not see a changed body")
	}
}
