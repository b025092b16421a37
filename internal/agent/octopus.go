package agent

// The helpers a step template from the community step-template library
// expects (docs/templates.md), defined for every script next to
// dynpool's own; they read and set dynpool's variables:
//
//	bash, sh:  get_octopusvariable NAME   prints the variable (or parameter), "" when unset
//	           set_octopusvariable NAME VALUE [-sensitive]   sets an output variable
//	           fail_step [MESSAGE]   prints MESSAGE to stderr and ends the script with 1
//	           new_octopusartifact FILE [NAME]   stores FILE as an artifact
//	python:    get_octopusvariable("NAME"), set_octopusvariable("NAME", value, sensitive=False)
//	pwsh:      $OctopusParameters["NAME"] (every environment variable),
//	           Set-OctopusVariable -name NAME -value V [-sensitive],
//	           Fail-Step [MESSAGE], New-OctopusArtifact -path FILE [-name NAME]
//
// Like shPrelude and pwshPrelude they take no line of their own. sh
// (dash) drops environment variables whose names are not identifiers
// (a template's "Group.Name" parameters); bash, python and pwsh keep them.
const (
	octopusShPrelude = `get_octopusvariable() { awk 'BEGIN { printf "%s", ENVIRON[ARGV[1]] }' "$1"; }; set_octopusvariable() { case "${3:-}" in -sensitive|true|True) set -- "$1" "$2" true;; *) set -- "$1" "$2" false;; esac; set_dynpool_variable "$1" "$2" "$3"; }; fail_step() { printf '%s\n' "${1:-The step failed}" >&2; exit 1; }; new_octopusartifact() { "$DYNPOOL_CLI" agent artifact push "$1" ${2:+--name "$2"}; }; `

	octopusPwshPrelude = `$OctopusParameters = @{}; Get-ChildItem env: | ForEach-Object { $OctopusParameters[$_.Name] = $_.Value }; function Set-OctopusVariable { param([string]$name, [string]$value = '', [switch]$sensitive); Set-DynpoolVariable -Name $name -Value $value -Sensitive:$sensitive }; function Fail-Step { param([string]$message = 'The step failed'); [Console]::Error.WriteLine($message); exit 1 }; function New-OctopusArtifact { param([string]$path, [string]$name = ''); if ($name) { & $env:DYNPOOL_CLI agent artifact push $path --name $name } else { & $env:DYNPOOL_CLI agent artifact push $path } }; `

	octopusPython = `# dynpool: the community step-template library's helpers.
def get_octopusvariable(name):
    """Returns the variable or parameter name of the step, "" when unset."""
    import os
    return os.environ.get(name, "")


def set_octopusvariable(name, value, sensitive=False):
    """Sets an output variable for the task's later steps."""
    import builtins
    builtins.set_dynpool_variable(name, value, sensitive)


import builtins as _builtins
_builtins.get_octopusvariable = get_octopusvariable
_builtins.set_octopusvariable = set_octopusvariable
del _builtins, get_octopusvariable, set_octopusvariable

`
)
