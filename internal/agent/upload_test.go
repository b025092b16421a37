package agent

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"

	"github.com/dynpool/dynpool/api"
)

func TestLogBatchesBoundedInBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
	}{
		{"40 lines of 60 KiB", repeatLines(40, 60*1024, 'x')},
		{"escaped control bytes", repeatLines(12, maxLine, '\x01')},
		{"many short lines", repeatLines(1234, 8, 'y')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := &logUploader{full: make(chan struct{}, 1)}
			for _, l := range tt.lines {
				u.add(api.StreamStdout, l)
			}
			var got []string
			for batch := u.next(); len(batch) > 0; batch = u.next() {
				size := 0
				for _, l := range batch {
					size += messageSize(l.Message)
					got = append(got, l.Message)
				}
				if len(batch) > logBatchLines || size > logBatchBytes {
					t.Errorf("batch of %d lines holds %d bytes, want at most %d lines and %d bytes", len(batch), size, logBatchLines, logBatchBytes)
				}
			}
			if len(got) != len(tt.lines) || strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Errorf("batches carry %d lines, want the %d added, in order", len(got), len(tt.lines))
			}
			if u.pendingBytes != 0 {
				t.Errorf("pendingBytes = %d after all batches, want 0", u.pendingBytes)
			}
		})
	}
}

// repeatLines returns n lines of size bytes, each starting with its
// number and filled with fill.
func repeatLines(n, size int, fill byte) []string {
	lines := make([]string, n)
	for i := range lines {
		prefix := fmt.Sprintf("%05d", i)
		lines[i] = prefix + strings.Repeat(string(fill), size-len(prefix))
	}
	return lines
}

func TestRunUploadsBigOutputInBoundedBatches(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	startAgent(t, srv.URL)
	// 40 lines of 60 KiB: 2.4 MiB, more than the server takes in one body.
	script := `for i in $(seq 1 40); do printf '%05d' "$i"; head -c 61435 /dev/zero | tr '\0' x; echo; done`
	got := runJob(t, f, &api.Job{ID: "j1", Syntax: "bash", Script: script})
	if got != (api.CompleteRequest{ExitCode: 0}) {
		t.Errorf("completion = %+v, want exit code 0", got)
	}
	lines := f.messages("j1", api.StreamStdout)
	if len(lines) != 40 {
		t.Fatalf("got %d lines, want 40", len(lines))
	}
	for i, l := range lines {
		if want := fmt.Sprintf("%05d", i+1); len(l) != 60*1024 || !strings.HasPrefix(l, want) {
			t.Errorf("line %d is %d bytes starting %q, want 61440 bytes starting %q", i, len(l), l[:min(5, len(l))], want)
		}
	}
	f.mu.Lock()
	uploads := f.uploads["j1"]
	f.mu.Unlock()
	if len(uploads) < 5 {
		t.Errorf("output went up in %d uploads, want at least 5 of at most %d bytes", len(uploads), logBatchBytes)
	}
	for i, size := range uploads {
		if size > logBatchBytes {
			t.Errorf("upload %d carries %d bytes of messages, want at most %d", i, size, logBatchBytes)
		}
	}
}

func TestRunFailsJobWhoseOutputIsTooLargeAndGoesOn(t *testing.T) {
	t.Parallel()
	f, srv := newFakeServer(t)
	f.failNext("/j1/log", http.StatusRequestEntityTooLarge)
	done := startAgent(t, srv.URL)
	child := startSleeper(t, f, "j1")
	eventually.Holds(t, "job j1 to complete", 20*time.Second, func() bool { _, ok := f.completion("j1"); return ok })
	got := mustCompletion(t, f, "j1")
	if got.ExitCode != -1 || !strings.HasPrefix(got.Error, "the output could not be uploaded: ") || !strings.Contains(got.Error, "413") {
		t.Errorf("completion = %+v, want exit code -1 and an error saying the output could not be uploaded (413)", got)
	}
	eventually.Holds(t, "the failed job's child to die", 20*time.Second, func() bool { return !alive(child) })

	if got := runJob(t, f, &api.Job{ID: "j2", Syntax: "sh", Script: "echo next"}); got != (api.CompleteRequest{ExitCode: 0}) {
		t.Errorf("next job's completion = %+v, want exit code 0", got)
	}
	select {
	case err := <-done:
		t.Errorf("Run returned %v after a 413, want it to go on", err)
	default:
	}
}
