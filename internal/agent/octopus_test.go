package agent

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/variable"
)

// TestOctopusHelpersReadAndSetVariables runs the library's helpers in a
// real interpreter: a parameter with a dotted name is read, an unset one
// reads as "", an output variable is set, and the script's line numbers
// are its own.
func TestOctopusHelpersReadAndSetVariables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		syntax, script string
	}{
		{api.SyntaxBash, "echo \"got [$(get_octopusvariable 'Greeting.Name')] [$(get_octopusvariable Unset.Name)] line $LINENO\"\nset_octopusvariable Out \"$(get_octopusvariable Greeting.Name)\" -sensitive"},
		{api.SyntaxPython, "import inspect\nprint('got [%s] [%s] line %d' % (get_octopusvariable('Greeting.Name'), get_octopusvariable('Unset.Name'), inspect.currentframe().f_lineno - 1))\nset_octopusvariable('Out', get_octopusvariable('Greeting.Name'), True)"},
		{api.SyntaxPowerShell, "Write-Output \"got [$($OctopusParameters['Greeting.Name'])] [$($OctopusParameters['Unset.Name'])] line $($MyInvocation.ScriptLineNumber)\"\nSet-OctopusVariable -name Out -value $OctopusParameters['greeting.name'] -sensitive"},
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
			cmd := exec.Command(argv[0], append(argv[1:], args...)...)
			cmd.Env = append(os.Environ(), "Greeting.Name=Ada Lovelace")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 2 || lines[0] != "got [Ada Lovelace] [] line 1" {
				t.Fatalf("output = %q, want the values read and line 1", out)
			}
			got, err := variable.Parse(lines[1])
			if err != nil {
				t.Fatalf("parse %q: %v", lines[1], err)
			}
			if want := (variable.SetVariable{Name: "Out", Value: "Ada Lovelace", Sensitive: true}); *got != want {
				t.Fatalf("helper set %+v, want %+v", *got, want)
			}
		})
	}
}

func TestOctopusFailStepEndsTheScript(t *testing.T) {
	t.Parallel()
	argv, _, err := command(api.SyntaxBash)
	if err != nil {
		t.Skipf("%v", err)
	}
	args, err := writeScript(api.SyntaxBash, "fail_step 'the target is down'\necho not reached", t.TempDir(), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(argv[0], append(argv[1:], args...)...).CombinedOutput()
	var exit *exec.ExitError
	if strings.TrimSpace(string(out)) != "the target is down" || !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("output %q, error %v; want the message and exit code 1", out, err)
	}
}
