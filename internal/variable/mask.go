package variable

import (
	"slices"
	"strings"
)

// Masker replaces sensitive values in text with Mask. A multi-line value
// is masked line by line too, since output reaches the log one line at a
// time. Transformed values (base64, URL-encoded, ...) are not recognised.
// The zero value and nil mask nothing. A Masker is not safe for concurrent
// use while Add runs.
type Masker struct {
	// values are the values to mask, longest first, so that where two
	// overlap the longer one is masked whole.
	values []string
	// byFirst indexes values by their first byte.
	byFirst map[byte][]string
	// longest is the length of the longest value (bytes).
	longest int
}

// NewMasker returns a Masker for values; empty ones are ignored.
func NewMasker(values ...string) *Masker {
	m := &Masker{}
	m.Add(values...)
	return m
}

// Add adds values to mask.
func (m *Masker) Add(values ...string) {
	for _, v := range values {
		parts := []string{v}
		if strings.ContainsAny(v, "\r\n") {
			parts = append(parts, strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' })...)
		}
		for _, p := range parts {
			if p != "" && !slices.Contains(m.values, p) {
				m.values = append(m.values, p)
			}
		}
	}
	slices.SortStableFunc(m.values, func(a, b string) int { return len(b) - len(a) })
	m.byFirst = make(map[byte][]string)
	m.longest = 0
	for _, v := range m.values {
		m.byFirst[v[0]] = append(m.byFirst[v[0]], v)
		m.longest = max(m.longest, len(v))
	}
}

// Empty reports whether m masks nothing.
func (m *Masker) Empty() bool { return m == nil || len(m.values) == 0 }

// match returns the length of the longest value at s[i:], or 0.
func (m *Masker) match(s string, i int) int {
	for _, v := range m.byFirst[s[i]] {
		if strings.HasPrefix(s[i:], v) {
			return len(v)
		}
	}
	return 0
}

// Mask returns s with every sensitive value replaced by Mask.
func (m *Masker) Mask(s string) string {
	out, _ := m.maskUpTo(s, len(s))
	return out
}

// maskUpTo masks the matches of s that start before cut and returns the
// masked text of s[:end], where end is cut or, when a match starting
// before cut runs past it, the end of that match.
func (m *Masker) maskUpTo(s string, cut int) (string, int) {
	if m.Empty() {
		return s[:cut], cut
	}
	var b strings.Builder
	last := 0
	i := 0
	for i < cut {
		if n := m.match(s, i); n > 0 {
			b.WriteString(s[last:i])
			b.WriteString(Mask)
			i += n
			last = i
			continue
		}
		i++
	}
	end := max(i, cut)
	b.WriteString(s[last:end])
	return b.String(), end
}

// Stream masks one output stream that arrives in chunks, where a long line
// comes as several chunks (the agent cuts lines at 64 KiB): a value split
// across two chunks is masked too. It holds back the end of a chunk that
// could begin a value (at most the longest value's length less one byte)
// and puts it before the next chunk.
type Stream struct {
	m     *Masker
	carry string
}

// NewStream returns a Stream masking with m; m may gain values later.
func NewStream(m *Masker) *Stream { return &Stream{m: m} }

// Write takes the next chunk of the current line; more says the line goes
// on in the next chunk. It returns the masked text to emit: for the last
// chunk of a line, exactly one string (the rest of the line, possibly
// empty); otherwise zero or one string, none when everything is held back.
func (s *Stream) Write(chunk string, more bool) []string {
	buf := s.carry + chunk
	s.carry = ""
	if !more {
		return []string{s.m.Mask(buf)}
	}
	hold := 0
	if !s.m.Empty() {
		hold = s.m.longest - 1
	}
	cut := len(buf) - hold
	if cut <= 0 {
		s.carry = buf
		return nil
	}
	out, end := s.m.maskUpTo(buf, cut)
	s.carry = buf[end:]
	return []string{out}
}
