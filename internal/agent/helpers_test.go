package agent

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/variable"
)

func TestAgentCutsLinesWhereTheMaskingFilterExpects(t *testing.T) {
	t.Parallel()
	if maxLine != variable.MaxLine {
		t.Fatalf("agent cuts lines at %d bytes, the masking filter expects %d", maxLine, variable.MaxLine)
	}
}

// TestHelpersSetOutputVariablesInEverySyntax runs each syntax's helper in
// a real interpreter with a value that needs every escape, and parses the
// line it printed.
func TestHelpersSetOutputVariablesInEverySyntax(t *testing.T) {
	t.Parallel()
	const value = "it's | a [test]\nline two"
	for _, tc := range []struct {
		syntax, script string
	}{
		{api.SyntaxBash, "#!/bin/bash\nV=$(printf \"it's | a [test]\\nline two\")\nset_dynpool_variable OUT \"$V\" true\necho after"},
		{api.SyntaxSh, "set -eu\nV=$(printf \"it's | a [test]\\nline two\")\nset_dynpool_variable OUT \"$V\" true\necho after"},
		{api.SyntaxPython, "from __future__ import annotations\nset_dynpool_variable('OUT', \"it's | a [test]\\nline two\", sensitive=True)\nprint('after')"},
		{api.SyntaxPowerShell, "Set-DynpoolVariable -Name OUT -Value \"it's | a [test]`nline two\" -Sensitive\nWrite-Output after"},
	} {
		t.Run(tc.syntax, func(t *testing.T) {
			t.Parallel()
			argv, _, err := command(tc.syntax)
			if err != nil {
				t.Skipf("%v", err)
			}
			args, err := writeScript(tc.syntax, tc.script, t.TempDir(), 0o600)
			if err != nil {
				t.Fatalf("write script: %v", err)
			}
			out, err := exec.Command(argv[0], append(argv[1:], args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 2 || lines[1] != "after" {
				t.Fatalf("output = %q, want the service message and 'after'", out)
			}
			got, err := variable.Parse(lines[0])
			if err != nil {
				t.Fatalf("parse %q: %v", lines[0], err)
			}
			if want := (variable.SetVariable{Name: "OUT", Value: value, Sensitive: true}); *got != want {
				t.Fatalf("helper set %+v, want %+v", *got, want)
			}
		})
	}
}

func TestPythonHelperKeepsTheScriptsDirectoryAndExitCode(t *testing.T) {
	t.Parallel()
	argv, _, err := command(api.SyntaxPython)
	if err != nil {
		t.Skipf("%v", err)
	}
	dir := t.TempDir()
	args, err := writeScript(api.SyntaxPython, "import sys, os\nprint(os.path.basename(sys.argv[0]), sys.path[0] == os.path.dirname(os.path.abspath(sys.argv[0])), __name__)\nsys.exit(3)", dir, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(argv[0], append(argv[1:], args...)...).CombinedOutput()
	var exit *exec.ExitError
	if !strings.Contains(string(out), "script.py True __main__") || !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("output %q, error %v; want script.py True __main__ and exit code 3", out, err)
	}
}

// TestAgentMasksAValueCutAtTheLineLimit runs a script whose line longer
// than 64 KiB holds a sensitive value across the cut, and one that sets a
// sensitive output variable and prints it: no upload carries either.
func TestAgentMasksAValueCutAtTheLineLimit(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	const secret = "S3CRET-VALUE-0123456789"
	script := `printf '%*s' 65530 '' | tr ' ' a; printf '%s-end\n' "$PASSWORD"
set_dynpool_variable TOKEN tok-EN-987654 true
echo "token is tok-EN-987654"`
	runJob(t, f, &api.Job{ID: "j1", Syntax: "bash", Script: script,
		Env: map[string]string{"PASSWORD": secret}, Masks: []string{secret}})
	got := f.messages("j1", api.StreamStdout)
	all := strings.Join(got, "")
	if strings.Contains(all, secret) || strings.Contains(all, secret[:6]) && strings.Contains(all, secret[6:]) {
		t.Fatalf("the sensitive value reached the server, whole or cut")
	}
	if !strings.Contains(all, variable.Mask+"-end") {
		t.Fatalf("the long line's end %q lacks the mask", all[max(0, len(all)-200):])
	}
	last := got[len(got)-1]
	if last != "token is "+variable.Mask {
		t.Fatalf("last line = %q, want the output variable's value masked", last)
	}
	if !strings.HasPrefix(got[len(got)-2], variable.MessagePrefix) {
		t.Fatalf("the service message did not reach the server as is: %q", got[len(got)-2])
	}
}
