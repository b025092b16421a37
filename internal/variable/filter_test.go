package variable

import (
	"strings"
	"sync"
	"testing"
)

type emitted struct {
	mu    sync.Mutex
	lines []string
}

func (e *emitted) add(stream, line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lines = append(e.lines, stream+":"+line)
}

// TestFilterMasksAValueCutAtTheLineLimit writes a line longer than MaxLine
// whose sensitive value straddles the cut, as the agent delivers it.
func TestFilterMasksAValueCutAtTheLineLimit(t *testing.T) {
	t.Parallel()
	const value = "p4ssw0rd-that-is-long"
	long := strings.Repeat("a", MaxLine-7) + value + "-end"
	var e emitted
	f := NewFilter(NewMasker(value), e.add)
	f.Line("stdout", long[:MaxLine])
	f.Line("stdout", long[MaxLine:])
	f.Line("stdout", "next "+value)
	f.Flush()
	joined := strings.Join(e.lines, "\n")
	if strings.Contains(joined, value) || strings.Contains(joined, value[:7]) && strings.Contains(joined, value[7:]) {
		t.Fatalf("the value, whole or in pieces, reached the output")
	}
	if len(e.lines) != 3 || !strings.HasSuffix(e.lines[1], Mask+"-end") || e.lines[2] != "stdout:next "+Mask {
		t.Fatalf("lines = %d, last two %q; want 3 ending with the mask", len(e.lines), e.lines[1:])
	}
	if got := strings.TrimPrefix(e.lines[0], "stdout:") + strings.TrimPrefix(e.lines[1], "stdout:"); got != strings.Repeat("a", MaxLine-7)+Mask+"-end" {
		t.Fatal("the pieces of the long line do not join to the masked line")
	}
}

func TestFilterLearnsSensitiveValuesFromServiceMessages(t *testing.T) {
	t.Parallel()
	var e emitted
	f := NewFilter(nil, e.add)
	msg := Format(SetVariable{Name: "TOKEN", Value: "t0k3n", Sensitive: true})
	f.Line("stdout", "before t0k3n")
	f.Line("stdout", msg)
	f.Line("stderr", "after t0k3n")
	want := []string{"stdout:before t0k3n", "stdout:" + msg, "stderr:after " + Mask}
	if strings.Join(e.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines = %q, want %q", e.lines, want)
	}
}

func TestFilterDropsAServiceMessageLongerThanTheLineLimit(t *testing.T) {
	t.Parallel()
	var e emitted
	f := NewFilter(nil, e.add)
	long := MessagePrefix + "setVariable name='X' value='" + strings.Repeat("s", 2*MaxLine) + "' sensitive='true']"
	for i := 0; i < len(long); i += MaxLine {
		f.Line("stdout", long[i:min(i+MaxLine, len(long))])
	}
	f.Line("stdout", "after")
	f.Flush()
	want := []string{"stdout:" + TooLongMessage, "stdout:after"}
	if strings.Join(e.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines = %.200q, want %q", e.lines, want)
	}
}

func TestFilterFlushEmitsTheHeldBackEndOfACutLine(t *testing.T) {
	t.Parallel()
	var e emitted
	f := NewFilter(NewMasker("0123456789"), e.add)
	f.Line("stdout", strings.Repeat("x", MaxLine-3)+"abc")
	f.Flush()
	f.Flush() // nothing left
	got := strings.Join(e.lines, "")
	if got != "stdout:"+strings.Repeat("x", MaxLine-3)+"stdout:abc" && got != "stdout:"+strings.Repeat("x", MaxLine-3)+"abc" {
		if strings.Count(got, "x")+strings.Count(got, "abc")*3 != MaxLine {
			t.Fatalf("output after flush lost bytes: %d x's", strings.Count(got, "x"))
		}
	}
	if !strings.HasSuffix(got, "abc") {
		t.Fatalf("the held-back end was not flushed: ...%q", got[max(0, len(got)-20):])
	}
}
