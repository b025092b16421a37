package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynpool/dynpool/api"
)

// logLine is the length of each line the log streaming step prints,
// newline included: a typical build log line.
const logLine = 100

// logStream measures a step printing size.logBytes in lines of logLine
// bytes, followed by a client: the output's bytes per second from the
// first line to the task's end, and the growth of the process's resident
// memory (server and follower) over its level before the step.
func (b *bencher) logStream(ctx context.Context) []Row {
	row := Row{Key: keyLog, Name: fmt.Sprintf("log streaming: step printing %d MB, followed", b.size.logBytes>>20)}
	if err := b.logStreamRow(ctx, &row); err != nil {
		row.Note = "failed: " + err.Error()
	}
	return []Row{row}
}

func (b *bencher) logStreamRow(ctx context.Context, row *Row) error {
	s, err := b.startServer(ctx, nil)
	if err != nil {
		return err
	}
	defer s.close(ctx, b.logger)
	c, err := s.tenant(ctx, "bench-log", "ubuntu-default")
	if err != nil {
		return err
	}
	// Make the worker first, so the figure is the streaming alone.
	if _, err := runStep(ctx, c, startStep, firstLine); err != nil {
		return err
	}
	want := b.size.logBytes / logLine
	script := fmt.Sprintf("yes \"$(printf '%%0%dd' 0)\" | head -n %d\n", logLine-1, want)
	base := readMemory()
	var peakRSS, peakHeap atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			if h := heapObjects(); h > peakHeap.Load() {
				peakHeap.Store(h)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	start := time.Now()
	task, err := c.CreateTask(ctx, api.CreateTaskRequest{Name: "bench-log", Steps: []api.StepRequest{{Name: "log", Syntax: api.SyntaxBash, Script: script}}})
	if err != nil {
		close(stop)
		wg.Wait()
		return fmt.Errorf("create task: %w", err)
	}
	var first time.Time
	var bytes, lines int64
	end, err := c.FollowLog(ctx, task.ID, func(l api.LogLine) {
		if l.Step == "" || l.Level != api.LevelInfo || len(l.Message) != logLine-1 {
			return
		}
		if first.IsZero() {
			first = time.Now()
		}
		bytes += int64(len(l.Message)) + 1
		lines++
	})
	took := time.Since(first)
	total := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	if end.State != api.StateSuccess {
		return fmt.Errorf("task ended %s: %s", end.State, end.Error)
	}
	if lines != want {
		return fmt.Errorf("the follower got %d lines of output, want %d", lines, want)
	}
	row.Value = fmt.Sprintf("%.1f MB/s; peak heap %s", float64(bytes)/1e6/took.Seconds(), mib(peakHeap.Load()))
	row.Note = fmt.Sprintf("%d lines of %d bytes, first line to end %s (submit to end %s); server process (with the follower) sampled every 20ms: peak Go heap %s (live %s before), peak RSS %s (%s before); the agent is a process of its own",
		lines, logLine, round(took), round(total), mib(peakHeap.Load()), mib(base.heap), mib(peakRSS.Load()), mib(base.rss))
	return nil
}
