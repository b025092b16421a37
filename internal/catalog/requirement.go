package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ErrBadRequirement is wrapped by the error of [ParseRequirement] for text
// that is not a tool requirement.
var ErrBadRequirement = errors.New("bad requirement")

// Requirement operators, as a step's requires entries write them.
const (
	OpAny = ""   // any version of the tool
	OpEq  = "="  // every given segment matches: kubectl=1.22 matches 1.22.6
	OpGe  = ">=" // at least
	OpGt  = ">"  // newer than
	OpLe  = "<=" // at most
	OpLt  = "<"  // older than
)

// latest is the tool-manifest version of a tool kept at its newest.
const latest = "latest"

// Requirement is one entry of a step's requires list: a tool, and an
// optional operator (one of the Op* constants) and version.
type Requirement struct {
	Tool    string // as written, e.g. "GCloud CLI"; matched by [toolKey]
	Op      string // OpAny when Version is ""
	Version string // dot-separated whole numbers, e.g. "1.22.6"
}

// ParseRequirement parses one requires entry: "name", "name=V",
// "name>=V", "name>V", "name<=V" or "name<V", with whitespace allowed
// around the name, operator and version. V is whole numbers separated by
// dots ("3", "1.22.6"). Anything else (an empty name, "kubectl==1",
// "kubectl>=", "helm>=3.x") gives an error wrapping [ErrBadRequirement]
// that quotes s.
//
// Versions compare segment by segment as numbers, a missing segment
// counting as 0, so "3" equals "3.0.0" and "1.22.6" is above "1.9.0".
// "=" requires only the segments given to match: "kubectl=1.22" is met by
// 1.22.6. A manifest version "latest" meets a bare name, ">=" and ">", but
// not "=", "<" or "<="; a manifest version that is not numbers meets only
// a bare name.
func ParseRequirement(s string) (Requirement, error) {
	bad := func(why string) (Requirement, error) {
		return Requirement{}, fmt.Errorf("%w %q: %s", ErrBadRequirement, s, why)
	}
	var q Requirement
	i := strings.IndexAny(s, "<>=")
	if i < 0 {
		q.Tool = strings.TrimSpace(s)
	} else {
		q.Tool = strings.TrimSpace(s[:i])
		q.Op = s[i : i+1]
		if i+1 < len(s) && s[i+1] == '=' && q.Op != OpEq {
			q.Op += "="
		}
		q.Version = strings.TrimSpace(s[i+len(q.Op):])
	}
	if toolKey(q.Tool) == "" {
		return bad("empty tool name")
	}
	if q.Op != OpAny && q.Version == "" {
		return bad(fmt.Sprintf("missing version after %q", q.Op))
	}
	if _, ok := segments(q.Version); q.Op != OpAny && !ok {
		return bad(fmt.Sprintf("version %q is not whole numbers separated by dots", q.Version))
	}
	return q, nil
}

// String returns the canonical form, which [ParseRequirement] reads back:
// "kubectl=1.22.6", "helm>=3", "docker".
func (q Requirement) String() string {
	return q.Tool + q.Op + q.Version
}

// met reports whether one manifest version of a matching tool meets q.
func (q Requirement) met(version string) bool {
	if q.Op == OpAny {
		return true
	}
	if strings.EqualFold(version, latest) {
		return q.Op == OpGe || q.Op == OpGt
	}
	have, ok := segments(version)
	want, wok := segments(q.Version)
	if !ok || !wok {
		return false
	}
	if q.Op == OpEq {
		for i, w := range want {
			if segment(have, i) != w {
				return false
			}
		}
		return true
	}
	c := compareSegments(have, want)
	switch q.Op {
	case OpGe:
		return c >= 0
	case OpGt:
		return c > 0
	case OpLe:
		return c <= 0
	case OpLt:
		return c < 0
	}
	return false
}

// segments splits "1.22.6" into [1 22 6]; false when v is empty or a
// segment is not a whole number.
func segments(v string) ([]int, bool) {
	if v == "" {
		return nil, false
	}
	parts := strings.Split(v, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		if p == "" || strings.TrimLeft(p, "0123456789") != "" {
			return nil, false
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// segment returns v[i], 0 past the end.
func segment(v []int, i int) int {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// compareSegments returns -1, 0 or +1 as a is below, equal to or above b,
// missing segments counting as 0.
func compareSegments(a, b []int) int {
	for i := range max(len(a), len(b)) {
		if x, y := segment(a, i), segment(b, i); x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// toolKey is the form tool names match in: lower case without spaces,
// dots, hyphens and underscores, so "GCloud CLI", "gcloud-cli" and
// "gcloudcli" match, and ".NET Core" matches "netcore".
func toolKey(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if unicode.IsSpace(r) || r == '.' || r == '-' || r == '_' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
