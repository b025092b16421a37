package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestOutputWriteFailures(t *testing.T) {
	t.Parallel()
	if err := printJSON(failWriter{}, 1); err == nil || !strings.Contains(err.Error(), "print json: disk full") {
		t.Errorf("printJSON: %v", err)
	}
	tb := newTable(failWriter{}, "A")
	if err := tb.flush(); err == nil || !strings.Contains(err.Error(), "print table: disk full") {
		t.Errorf("flush: %v", err)
	}
	for _, output := range []string{outputTable, outputJSON} {
		if err := printLogLine(failWriter{}, output, api.LogLine{}); err == nil {
			t.Errorf("printLogLine %s: no error", output)
		}
	}
}

func TestCells(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	tb := newTable(&b, "A", "B")
	tb.row("", timeCell(nil))
	tb.row(yesNo(true), timeCell(&time.Time{}))
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	if want := "A    B\n-    -\nyes  -\n"; b.String() != want {
		t.Errorf("table = %q, want %q", b.String(), want)
	}
	if got := (exitError{code: 3}).Error(); got != "exit status 3" {
		t.Errorf("exitError = %q", got)
	}
}

func TestFormatLogLineWithoutStep(t *testing.T) {
	t.Parallel()
	l := api.LogLine{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local), Level: api.LevelVerbose, Message: "acquiring"}
	if got, want := formatLogLine(l), "03:04:05 VERBOSE acquiring"; got != want {
		t.Errorf("formatLogLine = %q, want %q", got, want)
	}
}
