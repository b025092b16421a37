package docker

import "bytes"

// maxLine is the longest output line of an execution container; longer
// lines are split, as the agent splits a local script's.
const maxLine = 64 * 1024

// lineWriter cuts what is written to it into lines (without their "\n")
// and hands each to out with its stream name. It is not safe for
// concurrent use; call flush after the last Write.
type lineWriter struct {
	stream string
	out    func(stream, line string)
	buf    []byte
}

func newLineWriter(stream string, out func(stream, line string)) *lineWriter {
	if out == nil {
		out = func(string, string) {}
	}
	return &lineWriter{stream: stream, out: out}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		switch {
		case i >= 0 && i <= maxLine:
			w.out(w.stream, string(bytes.TrimSuffix(w.buf[:i], []byte("\r"))))
			w.buf = w.buf[i+1:]
		case len(w.buf) > maxLine:
			w.out(w.stream, string(w.buf[:maxLine]))
			w.buf = w.buf[maxLine:]
		default:
			return len(p), nil
		}
	}
}

// flush hands on a last line that had no "\n".
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.out(w.stream, string(w.buf))
		w.buf = nil
	}
}
