package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/dynpool/dynpool/api"
)

// ScriptKillGrace is how long a stopped script's process group has between
// SIGTERM and SIGKILL. A provider that stops an agent gives it longer than
// this between its own SIGTERM and SIGKILL, so the agent can stop its
// script and report the job before it is killed.
const ScriptKillGrace = 5 * time.Second

// errKillAtOnce, as the cause (or in the cause's chain) of the context a
// script runs with, makes the runner kill its process group with SIGKILL
// at once, without SIGTERM and ScriptKillGrace: for a script whose
// outcome is dropped anyway and that must be gone before something else
// starts (a health check a step preempts).
var errKillAtOnce = errors.New("its processes are killed at once")

// errStopped is in the chain of Run's error when the runner stopped the
// script because its ctx ended (see stopOnDone), whatever the script
// exited with then; the error's text is that of the exit (the signal
// that killed it). A script that ended on its own just as ctx ended is
// not stopped: what it exited with holds.
var errStopped = errors.New("the script was stopped")

// stoppedError is the error of a script the runner stopped: err's text,
// errStopped in its chain.
type stoppedError struct{ err error }

func (e *stoppedError) Error() string   { return e.err.Error() }
func (e *stoppedError) Unwrap() []error { return []error{e.err, errStopped} }

const (
	// maxLine is the longest output line; longer lines are split.
	maxLine = 64 * 1024
	// drainTimeout bounds the wait for output after the script's process
	// group is gone, for a process that left the group but kept the pipes.
	drainTimeout = 2 * time.Second
)

// runGroup runs argv in dir with env in a new process group and streams
// its output lines to out. It returns the exit code, or -1 and an error
// naming the signal when the script was killed by one. When ctx is done the group gets SIGTERM, then
// SIGKILL after ScriptKillGrace (SIGKILL at once for errKillAtOnce, see stopOnDone),
// and the error has errStopped in its chain. When the script exits, what it left running in
// its group is killed too, so no step leaks processes into the next.
func runGroup(ctx context.Context, argv []string, dir string, env []string, out func(stream, line string)) (int, error) {
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return -1, fmt.Errorf("make stdout pipe: %w", err)
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return -1, fmt.Errorf("make stderr pipe: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	// The child holds its own copies of the write ends.
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return -1, fmt.Errorf("start %s: %w", argv[0], err)
	}

	var scanners sync.WaitGroup
	scanners.Go(func() { scanLines(stdoutR, api.StreamStdout, out) })
	scanners.Go(func() { scanLines(stderrR, api.StreamStderr, out) })

	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	var (
		killers sync.WaitGroup
		stopped bool
	)
	killers.Go(func() { stopped = stopOnDone(ctx, pgid, exited) })
	waitErr := cmd.Wait()
	close(exited)
	killers.Wait()
	// Leftovers in the group would hold the pipes open.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	drained := make(chan struct{})
	go func() { scanners.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		// A process that left the group still holds the pipes: closing the
		// read ends ends the scanners.
		stdoutR.Close()
		stderrR.Close()
		<-drained
	}
	stdoutR.Close()
	stderrR.Close()

	code, err := exitOf(argv[0], waitErr)
	if stopped {
		if err == nil {
			err = fmt.Errorf("the script was stopped and exited with code %d", code)
		}
		return -1, &stoppedError{err}
	}
	return code, err
}

// exitOf turns the result of waiting for the script (run as name) into
// its exit code, or -1 and an error naming the signal that killed it.
func exitOf(name string, waitErr error) (int, error) {
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		return 0, nil
	case errors.As(waitErr, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, fmt.Errorf("the script was killed by signal %s", signalName(ws.Signal()))
		}
		return exitErr.ExitCode(), nil
	default:
		return -1, fmt.Errorf("wait for %s: %w", name, waitErr)
	}
}

// stopOnDone sends SIGTERM to process group pgid when ctx is done, and
// SIGKILL if its leader has not exited ScriptKillGrace later; SIGKILL at
// once when ctx's cause is errKillAtOnce.
// It says whether it stopped the group (ctx ended before the leader
// exited).
func stopOnDone(ctx context.Context, pgid int, exited <-chan struct{}) bool {
	select {
	case <-exited:
		return false
	case <-ctx.Done():
	}
	if errors.Is(context.Cause(ctx), errKillAtOnce) {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return true
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(ScriptKillGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return true
}

// scanLines calls out for each line of r, splitting lines longer than
// maxLine.
func scanLines(r io.Reader, stream string, out func(stream, line string)) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 4096), maxLine)
	s.Split(splitLines)
	for s.Scan() {
		out(stream, s.Text())
	}
}

// splitLines is bufio.ScanLines that hands out a full buffer as a line of
// its own instead of failing with bufio.ErrTooLong.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	advance, token, err := bufio.ScanLines(data, atEOF)
	if advance == 0 && token == nil && err == nil && len(data) >= maxLine {
		return maxLine, data[:maxLine], nil
	}
	return advance, token, err
}

// signalNames are the short names of the signals that commonly end a
// script, as kill(1) spells them.
var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP:  "HUP",
	syscall.SIGINT:  "INT",
	syscall.SIGQUIT: "QUIT",
	syscall.SIGILL:  "ILL",
	syscall.SIGTRAP: "TRAP",
	syscall.SIGABRT: "ABRT",
	syscall.SIGBUS:  "BUS",
	syscall.SIGFPE:  "FPE",
	syscall.SIGKILL: "KILL",
	syscall.SIGUSR1: "USR1",
	syscall.SIGSEGV: "SEGV",
	syscall.SIGUSR2: "USR2",
	syscall.SIGPIPE: "PIPE",
	syscall.SIGALRM: "ALRM",
	syscall.SIGTERM: "TERM",
	syscall.SIGXCPU: "XCPU",
	syscall.SIGXFSZ: "XFSZ",
	syscall.SIGSYS:  "SYS",
}

// signalName returns sig's short name ("KILL"), or its number and
// description for a signal not in signalNames ("34 (signal 34)").
func signalName(sig syscall.Signal) string {
	if name, ok := signalNames[sig]; ok {
		return name
	}
	return fmt.Sprintf("%d (%s)", int(sig), sig)
}
