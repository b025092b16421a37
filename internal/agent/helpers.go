package agent

import (
	"fmt"
	"os"
	"path/filepath"
)

// The helpers a step's script finds ready, in each syntax, to set an
// output variable (the service message format is in package variable):
//
//	bash, sh:  set_dynpool_variable NAME VALUE [true]
//	python:    set_dynpool_variable("NAME", value, sensitive=True)
//	pwsh:      Set-DynpoolVariable -Name NAME -Value $v [-Sensitive]
//	           (alias set_dynpool_variable)
//
// For bash, sh and pwsh the helper is defined on the script's first line,
// before its own first line, so line numbers in the interpreter's errors
// stay those of the step's script (a pwsh script whose first statement
// must be param() or using cannot have it; print the line itself there).
// For python the script runs through a small bootstrap that puts the
// helper in builtins and runs the script with runpy as __main__, so
// `from __future__` imports keep working. The helpers use only the
// interpreter (plus sed and awk for sh), so they work inside execution
// containers too.
const (
	shPrelude = `set_dynpool_variable() { printf "##dynpool[setVariable name='%s' value='%s' sensitive='%s']\n" "$1" "$(printf '%s' "$2" | sed -e 's/|/||/g' -e "s/'/|'/g" | awk 'NR>1{printf "|n"}{printf "%s",$0}')" "${3:-false}"; }; `

	pwshPrelude = `function Set-DynpoolVariable { param([Parameter(Mandatory)][string]$Name, [string]$Value = '', [switch]$Sensitive); $e = $Value.Replace('|', '||').Replace("'", "|'").Replace("` + "`" + `n", '|n').Replace("` + "`" + `r", '|r'); Write-Host ("##dynpool[setVariable name='{0}' value='{1}' sensitive='{2}']" -f $Name, $e, $Sensitive.IsPresent.ToString().ToLower()) }; Set-Alias -Name set_dynpool_variable -Value Set-DynpoolVariable; `

	pythonBootstrap = `# dynpool: defines set_dynpool_variable, then runs the step's script.
import builtins, os, runpy, sys


def set_dynpool_variable(name, value, sensitive=False):
    """Sets an output variable for the task's later steps."""
    e = str(value).replace("|", "||").replace("'", "|'").replace("\n", "|n").replace("\r", "|r")
    print("##dynpool[setVariable name='%s' value='%s' sensitive='%s']"
          % (name, e, "true" if sensitive else "false"), flush=True)


builtins.set_dynpool_variable = set_dynpool_variable
del builtins, set_dynpool_variable
_script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(_script))
runpy.run_path(_script, run_name="__main__")
`
)

// writeScript writes job's script for syntax into dir with its helper,
// with file mode perm, and returns the arguments that follow the
// interpreter's own: the script's path, or for python the bootstrap's and
// the script's.
func writeScript(syntax, script, dir string, perm os.FileMode) ([]string, error) {
	in, ok := interpreters[syntax]
	if !ok {
		return nil, fmt.Errorf("%w %q: want bash, sh, python or pwsh", ErrUnknownSyntax, syntax)
	}
	path := filepath.Join(dir, in.file)
	args := []string{path}
	switch syntax {
	case "bash", "sh":
		script = shPrelude + octopusShPrelude + script
	case "pwsh":
		script = pwshPrelude + octopusPwshPrelude + script
	case "python":
		boot := filepath.Join(dir, "dynpool_bootstrap.py")
		if err := os.WriteFile(boot, []byte(octopusPython+pythonBootstrap), perm); err != nil {
			return nil, fmt.Errorf("write script helper: %w", err)
		}
		args = []string{boot, path}
	}
	if err := os.WriteFile(path, []byte(script), perm); err != nil {
		return nil, fmt.Errorf("write script: %w", err)
	}
	return args, nil
}
