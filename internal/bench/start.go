package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/dynpool/dynpool/api"
)

// firstLine is what the step start scripts print first; the figure ends
// when it reaches the client.
const firstLine = "dynpool-bench-first-line"

// startStep is the step the start rows run: a bash script printing
// firstLine.
var startStep = api.StepRequest{Name: "start", Syntax: api.SyntaxBash, Script: "echo " + firstLine + "\nsleep 0.25\n"}

// warmStart measures task submitted → first output line on the client,
// on an idle worker leased to the tenant already, against bareShell.
func (b *bencher) warmStart(ctx context.Context) []Row {
	row := Row{Key: keyWarm, Name: "warm step start (process): submit → first output line"}
	var got samples
	err := func() error {
		s, err := b.startServer(ctx, nil)
		if err != nil {
			return err
		}
		defer s.close(ctx, b.logger)
		c, err := s.tenant(ctx, "bench-warm", "ubuntu-default")
		if err != nil {
			return err
		}
		// The first step makes the worker; the rest find it idle.
		if _, err := runStep(ctx, c, startStep, firstLine); err != nil {
			return err
		}
		for range b.size.warm {
			d, err := runStep(ctx, c, startStep, firstLine)
			if err != nil {
				return err
			}
			got = append(got, d)
		}
		return nil
	}()
	return []Row{b.withShell(ctx, row, got, err, b.size.warm)}
}

// coldProcess measures the same on a new tenant each time, so a worker
// process is created for every step.
func (b *bencher) coldProcess(ctx context.Context) []Row {
	row := Row{Key: keyColdProcess, Name: "cold step start (process): submit → first output line"}
	var got samples
	err := func() error {
		s, err := b.startServer(ctx, nil)
		if err != nil {
			return err
		}
		defer s.close(ctx, b.logger)
		for i := range b.size.cold {
			c, err := s.tenant(ctx, fmt.Sprintf("bench-cold-%d", i), "ubuntu-default")
			if err != nil {
				return err
			}
			d, err := runStep(ctx, c, startStep, firstLine)
			if err != nil {
				return err
			}
			got = append(got, d)
		}
		return nil
	}()
	return []Row{b.withShell(ctx, row, got, err, b.size.cold)}
}

// withShell fills row from got (or err) beside n samples of bareShell.
func (b *bencher) withShell(ctx context.Context, row Row, got samples, err error, n int) Row {
	if err != nil {
		row.Note = "failed: " + err.Error()
		return row
	}
	bare, err := bareShells(ctx, n)
	row.Value = got.p50p99()
	row.Note = fmt.Sprintf("%d samples; baseline: bash started with os/exec, its first line read", len(got))
	if err != nil {
		row.Note += "; baseline failed: " + err.Error()
		return row
	}
	row.Baseline = bare.p50p99()
	row.Ratio = ratio(got.quantile(0.5), bare.quantile(0.5))
	return row
}

// bareShells times n runs of bareShell.
func bareShells(ctx context.Context, n int) (samples, error) {
	dir, err := os.MkdirTemp("", "dynpool-bench-shell-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out samples
	for range max(n, 5) {
		d, err := bareShell(ctx, dir)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// bareShell is the floor of a step start: write the script to a file, as
// the agent does, start bash on it and read its first line.
func bareShell(ctx context.Context, dir string) (time.Duration, error) {
	start := time.Now()
	path := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(path, []byte(startStep.Script), 0o600); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "bash", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start bash: %w", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	took := time.Since(start)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil || line != firstLine+"\n" {
		return 0, fmt.Errorf("bash printed %q: %v", line, err)
	}
	return took, nil
}
