package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/dynpool/dynpool/api"
)

// ErrUnknownSyntax is returned (wrapped, naming the syntax) for a job whose
// script syntax no runner knows.
var ErrUnknownSyntax = errors.New("unknown script syntax")

// Runner runs one job's script in dir, calling out for each output line
// (stream is api.StreamStdout or api.StreamStderr) as it comes; out is
// never called after Run returns, and may be called from several
// goroutines. Run returns the script's exit code, or -1 and an error when
// the script could not run or was killed by a signal (the error names the
// signal, e.g. "the script was killed by signal KILL"). When ctx is done
// the script is stopped; ProcessRunner's error then has errStopped in its
// chain (the health check tells a timeout by it).
type Runner interface {
	Run(ctx context.Context, job *api.Job, dir string, out func(stream, line string)) (exitCode int, err error)
}

// Environment variables a script sees besides the agent's own and the
// job's Env.
const (
	EnvWorkerID = "DYNPOOL_WORKER_ID"
	EnvTaskID   = "DYNPOOL_TASK_ID"
	EnvStepName = "DYNPOOL_STEP_NAME"
	// EnvCLI is the path of the dynpool binary running the agent, for
	// `"$DYNPOOL_CLI" agent artifact push FILE` (process runner only: an
	// execution container does not have it).
	EnvCLI = "DYNPOOL_CLI"
)

// ProcessRunner runs scripts as local processes, each in its own process
// group so that stopping it stops every process it started. A container
// runner will sit beside it.
type ProcessRunner struct {
	// WorkerID is put in the script's environment as DYNPOOL_WORKER_ID.
	WorkerID string
}

var _ Runner = (*ProcessRunner)(nil)

// Run implements [Runner]. Syntaxes: "bash" runs `bash <file>` (no -e:
// the script decides), "sh" runs `sh <file>`, "python" runs
// `python3 <file>` or else `python <file>`, "pwsh" runs
// `pwsh -NoProfile -File <file>`. A missing interpreter is an error
// "<name> is not installed on this worker".
func (r *ProcessRunner) Run(ctx context.Context, job *api.Job, dir string, out func(stream, line string)) (int, error) {
	argv, _, err := command(job.Syntax)
	if err != nil {
		return -1, err
	}
	args, err := writeScript(job.Syntax, job.Script, dir, 0o600)
	if err != nil {
		return -1, err
	}
	return runGroup(ctx, append(argv, args...), dir, r.env(job), out)
}

// interpreter says how to run one script syntax: the first of names found
// on PATH, then args, then the script file.
type interpreter struct {
	names []string
	args  []string
	file  string
}

var interpreters = map[string]interpreter{
	"bash":   {names: []string{"bash"}, file: "script.sh"},
	"sh":     {names: []string{"sh"}, file: "script.sh"},
	"python": {names: []string{"python3", "python"}, file: "script.py"},
	"pwsh":   {names: []string{"pwsh"}, args: []string{"-NoProfile", "-File"}, file: "script.ps1"},
}

// command returns the interpreter argv (without the script path) and the
// script file name for syntax.
func command(syntax string) ([]string, string, error) {
	in, ok := interpreters[syntax]
	if !ok {
		return nil, "", fmt.Errorf("%w %q: want bash, sh, python or pwsh", ErrUnknownSyntax, syntax)
	}
	for _, name := range in.names {
		if p, err := exec.LookPath(name); err == nil {
			return append([]string{p}, in.args...), in.file, nil
		}
	}
	return nil, "", fmt.Errorf("%s is not installed on this worker", syntax)
}

// env is the agent's environment without its registration token, plus the
// DYNPOOL_* job variables and job.Env (which wins on a clash).
func (r *ProcessRunner) env(job *api.Job) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, EnvToken+"=")
	})
	env = append(env,
		EnvWorkerID+"="+r.WorkerID,
		EnvTaskID+"="+job.TaskID,
		EnvStepName+"="+job.Step,
	)
	if exe, err := os.Executable(); err == nil {
		env = append(env, EnvCLI+"="+exe)
	}
	for k, v := range job.Env {
		env = append(env, k+"="+v)
	}
	return env
}
