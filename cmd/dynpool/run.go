package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
)

// Exit statuses of "dynpool run" besides a failed step's own code.
const (
	exitFailed   = 1   // the task failed without a usable step exit code
	exitCanceled = 130 // the task was canceled, or Ctrl-C (128 + SIGINT)
	// maxStepExit is the highest step exit code passed through; codes above
	// it are the shell's own (126 not executable, 127 not found, 128+n
	// signals), so they map to exitFailed.
	maxStepExit = 125
)

// cancelTimeout bounds the cancel request sent after Ctrl-C.
const cancelTimeout = 10 * time.Second

// newRunCmd builds "dynpool run": run one script as a one-step task and
// follow its log.
func newRunCmd(a *app) *cobra.Command {
	var name, pool, syntax, script, file, image string
	var requires, vars, secrets []string
	cmd := &cobra.Command{
		Use:   "run [--pool POOL] [--syntax bash|sh|python|pwsh] [--container IMAGE] [--require TOOL[OP VERSION] ...] (--script SCRIPT | --file FILE | -- COMMAND...)",
		Short: "Run a script on a worker and follow its log",
		Long: "Run creates a task with one step, prints its log as it comes and exits\n" +
			"with 0 on success, the failed step's exit code (1 to 125, else 1) on\n" +
			"failure and 130 when canceled. Ctrl-C cancels the task. --file - reads\n" +
			"the script from standard input. With -o json the log goes to standard\n" +
			"error as text and standard output gets the finished task as JSON.\n" +
			"--require names a tool the pool's image must provide, optionally with\n" +
			"a version: --require docker --require kubectl=1.22.6 --require 'helm>=3'\n" +
			"(also >, <= and <). When the pool's image lacks one, the step fails\n" +
			"before a worker is acquired; a malformed one is refused at once.\n" +
			"--container runs the script in an execution container of that image\n" +
			"beside the worker (docs/containers.md), with sh unless --syntax says\n" +
			"otherwise.",
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := scriptSource(cmd.InOrStdin(), cmd.Flags().Changed("script"), script, file, args)
			if err != nil {
				return err
			}
			variables, err := parseVariables(vars, secrets)
			if err != nil {
				return err
			}
			step := api.StepRequest{Name: name, Pool: pool, Syntax: syntax, Script: src, Requires: requires, Variables: variables}
			if image != "" {
				step.Container = &api.Container{Image: image}
				if !cmd.Flags().Changed("syntax") {
					// Many images have no bash; every Linux image has sh.
					step.Syntax = api.SyntaxSh
				}
			}
			req := api.CreateTaskRequest{Name: name, Steps: []api.StepRequest{step}}
			c := a.client()
			t, err := c.CreateTask(cmd.Context(), req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "task %s queued\n", t.ID)
			return a.followTask(cmd, c, t)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "run", "task and step name")
	f.StringVar(&pool, "pool", "", "pool id or name (default: the tenant's default pool)")
	f.StringVar(&syntax, "syntax", api.SyntaxBash, "script syntax: bash, sh, python or pwsh")
	f.StringVar(&script, "script", "", "the script text")
	f.StringVar(&file, "file", "", "read the script from this file (- for standard input)")
	f.StringArrayVar(&vars, "var", nil, "variable NAME=VALUE the script sees in its environment; repeatable")
	f.StringArrayVar(&secrets, "sensitive-var", nil, "sensitive variable NAME=VALUE: encrypted at rest, never returned, masked in the log; repeatable (docs/variables.md)")
	f.StringVar(&image, "container", "", `run the script in an execution container of this image, e.g. "golang:1.26"`)
	f.StringArrayVar(&requires, "require", nil, `tool the image must provide, e.g. "docker", "kubectl=1.22.6", "helm>=3"; repeatable`)
	return cmd
}

// scriptSource returns the script from exactly one of --script, --file
// ("-" is standard input) or the arguments after "--" (joined with spaces).
func scriptSource(stdin io.Reader, haveScript bool, script, file string, args []string) (string, error) {
	n := 0
	for _, given := range []bool{haveScript, file != "", len(args) > 0} {
		if given {
			n++
		}
	}
	if n != 1 {
		return "", errors.New("give exactly one of --script, --file or -- COMMAND")
	}
	switch {
	case file != "":
		src, err := readScriptFile(stdin, file)
		if err != nil {
			return "", fmt.Errorf("read script: %w", err)
		}
		return src, nil
	case len(args) > 0:
		return strings.Join(args, " "), nil
	}
	return script, nil
}

// readScriptFile reads a script from file path, or from stdin for "-"
// (for run --file and the --health-check-file of pools).
func readScriptFile(stdin io.Reader, path string) (string, error) {
	if path == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("standard input: %w", err)
		}
		return string(b), nil
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// followTask prints the log of t until it ends, with a status line on a
// terminal, and turns the outcome into the exit status. When the command's
// context ends (Ctrl-C) it asks the server to cancel t and exits 130.
func (a *app) followTask(cmd *cobra.Command, c *client.Client, t *api.Task) error {
	ctx := cmd.Context()
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	logw, logFormat := out, a.output
	if a.output == outputJSON {
		// Standard output holds only the result: the finished task.
		logw, logFormat = errw, outputTable
	}
	var st *statusLine
	stopStatus := func() {}
	if a.isTerminal(errw) {
		st = newStatusLine(errw)
		pollCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			st.poll(pollCtx, c, t.ID)
		}()
		stopStatus = func() {
			stop()
			<-done
			st.clear()
		}
	}
	final, err := c.FollowLog(ctx, t.ID, func(l api.LogLine) {
		st.clear()
		_ = printLogLine(logw, logFormat, l)
	})
	stopStatus()
	if err != nil {
		if ctx.Err() == nil {
			return err
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
		defer cancel()
		if _, err := c.CancelTask(cctx, t.ID); err != nil {
			fmt.Fprintf(errw, "interrupted; %v\n", err)
		} else {
			fmt.Fprintf(errw, "interrupted; canceled task %s\n", t.ID)
		}
		return exitError{code: exitCanceled}
	}
	if a.output == outputJSON {
		if err := printJSON(out, final); err != nil {
			return err
		}
	}
	return taskExit(errw, final)
}

// taskExit says on w how t ended, unless it succeeded, and returns the
// matching exitError (nil on success).
func taskExit(w io.Writer, t *api.Task) error {
	switch t.State {
	case api.StateSuccess:
		return nil
	case api.StateCanceled:
		fmt.Fprintf(w, "task %s canceled\n", t.ID)
		return exitError{code: exitCanceled}
	case api.StateFailed:
		code, reason := exitFailed, t.Error
		for _, s := range t.Steps {
			if s.State != api.StateFailed {
				continue
			}
			if s.ExitCode != nil && *s.ExitCode >= 1 && *s.ExitCode <= maxStepExit {
				code = *s.ExitCode
			}
			if reason == "" {
				reason = s.Error
			}
			if reason == "" && s.ExitCode != nil {
				reason = fmt.Sprintf("step %s exited with %d", s.Name, *s.ExitCode)
			}
			break
		}
		fmt.Fprintf(w, "task %s failed: %s\n", t.ID, reason)
		return exitError{code: code}
	}
	return fmt.Errorf("task %s ended in unexpected state %q", t.ID, t.State)
}

// statusRefresh is how often the status line is redrawn and the task
// polled.
const statusRefresh = 250 * time.Millisecond

// statusLine is the one-line "what are we waiting for" note run keeps at
// the bottom of a terminal. A nil *statusLine does nothing.
type statusLine struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	shown bool
}

func newStatusLine(w io.Writer) *statusLine {
	return &statusLine{w: w, start: time.Now()}
}

// show replaces the status line with text and the time since start.
func (s *statusLine) show(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "\r\033[K%s (%s)", text, time.Since(s.start).Round(time.Second))
	s.shown = true
}

// clear erases the status line, if shown, so a log line can take its place.
func (s *statusLine) clear() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown {
		fmt.Fprint(s.w, "\r\033[K")
		s.shown = false
	}
}

// poll redraws the status line every statusRefresh from the task's and its
// workers' states until ctx ends. Failed polls keep the last text: the log
// stream, not the status line, reports errors.
func (s *statusLine) poll(ctx context.Context, c *client.Client, taskID string) {
	names := map[string]string{} // pool and image ids to display names
	if ps, err := c.ListPools(ctx); err == nil {
		for _, p := range ps {
			names[p.ID] = p.Name
		}
	}
	if l, err := c.ListImages(ctx); err == nil {
		for _, im := range l.Images {
			names[im.ID] = im.Name
		}
	}
	text := api.StateQueued
	tick := time.NewTicker(statusRefresh)
	defer tick.Stop()
	for {
		if t, err := c.GetTask(ctx, taskID); err == nil {
			var ws []api.Worker
			if step := currentStep(t); step != nil && step.WorkerID != "" {
				ws, _ = c.ListWorkers(ctx, false)
			}
			text = statusText(t, ws, names)
		}
		if ctx.Err() != nil {
			return
		}
		s.show(text)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// currentStep is the first step of t that has not ended, or nil.
func currentStep(t *api.Task) *api.Step {
	for i, s := range t.Steps {
		if s.State == api.StateQueued || s.State == api.StateRunning {
			return &t.Steps[i]
		}
	}
	return nil
}

// statusText says what a run of t waits for, given the tenant's workers and
// display names of pools and images (an id stands for itself when absent).
func statusText(t *api.Task, ws []api.Worker, names map[string]string) string {
	step := currentStep(t)
	if t.State == api.StateQueued || step == nil {
		return t.State
	}
	name := func(id string) string {
		if n, ok := names[id]; ok && n != "" {
			return n
		}
		return id
	}
	if step.WorkerID == "" {
		return fmt.Sprintf("waiting for a worker from pool %s", name(step.PoolID))
	}
	for _, w := range ws {
		if w.ID == step.WorkerID && w.State == api.WorkerProvisioning {
			return fmt.Sprintf("provisioning worker %s (%s)", w.ID, name(w.Image))
		}
	}
	return fmt.Sprintf("running on worker %s", step.WorkerID)
}

// parseVariables turns --var and --sensitive-var NAME=VALUE arguments
// into step variables; the server checks the names.
func parseVariables(plain, sensitive []string) ([]api.Variable, error) {
	var out []api.Variable
	for _, group := range []struct {
		flag      string
		args      []string
		sensitive bool
	}{{"--var", plain, false}, {"--sensitive-var", sensitive, true}} {
		for _, arg := range group.args {
			name, value, ok := strings.Cut(arg, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("%s %q: want NAME=VALUE", group.flag, arg)
			}
			out = append(out, api.Variable{Name: name, Value: value, Sensitive: group.sensitive})
		}
	}
	return out, nil
}
