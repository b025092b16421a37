package variable

import (
	"strings"
	"sync"
)

// MaxLine is the length (bytes) at which the agent and the docker
// provider cut output lines: a line of exactly MaxLine bytes is a piece of
// a longer one that goes on in the stream's next line.
const MaxLine = 64 * 1024

// TooLongMessage replaces a service message line longer than MaxLine,
// which cannot be read (its value is at most MaxValueSize) and must not
// be shown, since its value may be sensitive.
const TooLongMessage = "A ##dynpool service message longer than 64 KiB was ignored"

// Filter prepares a step's output for the task log, stream by stream, as
// lines arrive cut at MaxLine: it masks sensitive values, also across the
// cuts (see [Stream]); it passes a service message line through unmasked,
// for the server to read, and learns the value of a sensitive one so that
// later lines mask it; and it drops the rest of a service message longer
// than MaxLine. It is safe for concurrent use; emit is called under its
// lock, in order per stream.
type Filter struct {
	mu      sync.Mutex
	m       *Masker
	streams map[string]*filterStream
	emit    func(stream, line string)
}

type filterStream struct {
	s *Stream
	// inLine: the last chunk of this stream was cut, so the next one goes
	// on with the same line.
	inLine bool
	// discard: the current line is a service message too long to read.
	discard bool
}

// NewFilter returns a Filter masking with m (which it may add values to)
// and handing the lines to emit.
func NewFilter(m *Masker, emit func(stream, line string)) *Filter {
	if m == nil {
		m = NewMasker()
	}
	return &Filter{m: m, streams: map[string]*filterStream{}, emit: emit}
}

// Line takes the next line, or piece of a line, of stream.
func (f *Filter) Line(stream, line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.streams[stream]
	if st == nil {
		st = &filterStream{s: NewStream(f.m)}
		f.streams[stream] = st
	}
	more := len(line) == MaxLine
	switch {
	case st.discard:
		st.discard, st.inLine = more, more
		return
	case !st.inLine && strings.HasPrefix(line, MessagePrefix):
		if more {
			st.discard, st.inLine = true, true
			f.emit(stream, TooLongMessage)
			return
		}
		if v, err := Parse(line); err == nil && v.Sensitive {
			f.m.Add(v.Value)
		}
		f.emit(stream, line)
		return
	}
	for _, out := range st.s.Write(line, more) {
		f.emit(stream, out)
	}
	st.inLine = more
}

// Flush emits what the streams hold back of a line that was cut and then
// ended without a newline; call it once the output has ended.
func (f *Filter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for stream, st := range f.streams {
		if !st.inLine {
			continue
		}
		st.inLine, st.discard = false, false
		if out := st.s.Write("", false); out[0] != "" {
			f.emit(stream, out[0])
		}
	}
}
