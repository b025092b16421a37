package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// logLines returns n info lines of step, the first at t0+d, one second
// apart, with messages prefix0, prefix1, ...
func logLines(n int, step, prefix string, d time.Duration) []store.LogLine {
	lines := make([]store.LogLine, n)
	for i := range lines {
		lines[i] = store.LogLine{Time: at(d + time.Duration(i)*time.Second), Level: "info", Step: step,
			Message: fmt.Sprintf("%s%d", prefix, i)}
	}
	return lines
}

// seqs returns the Seq of each line.
func seqs(lines []store.LogLine) []int64 {
	out := make([]int64, len(lines))
	for i, l := range lines {
		out[i] = l.Seq
	}
	return out
}

func testLog(t *testing.T, open opener) {
	t.Run("AppendList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTask(t, s, "t1", "k1", "running", 0)
		newTask(t, s, "t1", "k2", "running", 0)
		first := []store.LogLine{
			{Time: t0, Level: "verbose", Message: "acquiring worker"},
			{Time: at(time.Second), Level: "warning", Step: "build", Message: "image deprecated\n  see docs"},
			{Time: at(2 * time.Second), Level: "error", Step: "build", Message: ""},
		}
		must(t, "append", s.LogAppend(t.Context(), "k1", first))
		check(t, "Seq written back", seqs(first), []int64{1, 2, 3})
		second := logLines(2, "test", "line", time.Minute)
		must(t, "append again", s.LogAppend(t.Context(), "k1", second))
		check(t, "Seq of the second append", seqs(second), []int64{4, 5})
		other := logLines(2, "", "other", 0)
		must(t, "append to another task", s.LogAppend(t.Context(), "k2", other))
		check(t, "Seq of another task starts at 1", seqs(other), []int64{1, 2})
		must(t, "append nothing", s.LogAppend(t.Context(), "k1", nil))

		all := append(append([]store.LogLine{}, first...), second...)
		for _, tc := range []struct {
			name     string
			afterSeq int64
			limit    int
			want     []store.LogLine
		}{
			{"everything", 0, 100, all},
			{"limit 0 means no limit", 0, 0, all},
			{"first page", 0, 2, all[:2]},
			{"second page", 2, 2, all[2:4]},
			{"last page", 4, 2, all[4:]},
			{"past the end", 5, 2, nil},
		} {
			got, err := s.LogList(t.Context(), "k1", tc.afterSeq, tc.limit)
			must(t, "list", err)
			check(t, "LogList "+tc.name, got, tc.want)
		}
		got, err := s.LogList(t.Context(), "missing", 0, 10)
		must(t, "list unknown task", err)
		if len(got) != 0 {
			t.Errorf("LogList of an unknown task = %d lines, want 0", len(got))
		}
	})
	t.Run("UnknownTask", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		err := s.LogAppend(t.Context(), "missing", logLines(1, "", "x", 0))
		wantErr(t, "append to an unknown task", err, store.ErrNotFound)
	})
	t.Run("ConcurrentAppend", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTask(t, s, "t1", "k1", "running", 0)
		const writers, batches, perBatch = 8, 10, 3
		var wg sync.WaitGroup
		errs := make(chan error, writers*batches)
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					lines := logLines(perBatch, fmt.Sprintf("w%d", w), fmt.Sprintf("b%d-", b), 0)
					if err := s.LogAppend(t.Context(), "k1", lines); err != nil {
						errs <- err
						return
					}
					for i := 1; i < len(lines); i++ {
						if lines[i].Seq != lines[0].Seq+int64(i) {
							errs <- fmt.Errorf("batch got Seq %v, want consecutive", seqs(lines))
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent append: %v", err)
		}
		got, err := s.LogList(t.Context(), "k1", 0, 0)
		must(t, "list", err)
		if len(got) != writers*batches*perBatch {
			t.Fatalf("LogList after concurrent appends = %d lines, want %d", len(got), writers*batches*perBatch)
		}
		for i, l := range got {
			if l.Seq != int64(i+1) {
				t.Fatalf("line %d has Seq %d, want %d (no gaps, no duplicates)", i, l.Seq, i+1)
			}
		}
	})
}
