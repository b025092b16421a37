package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is wrapped by every error [Parse] and [Load] return for a
// catalog that is not valid YAML or breaks a rule of the catalog format.
var ErrInvalid = errors.New("invalid catalog")

// dateLayout is the format of every date in a catalog file: a UTC day.
const dateLayout = "2006-01-02"

// invalidError is a validation error; its text names the line when known.
type invalidError struct {
	line int
	msg  string
}

func (e *invalidError) Error() string {
	if e.line <= 0 {
		return "catalog: " + e.msg
	}
	return fmt.Sprintf("catalog: line %d: %s", e.line, e.msg)
}

func (e *invalidError) Unwrap() error { return ErrInvalid }

// errAt returns an [ErrInvalid] error located at node n.
func errAt(n *yaml.Node, format string, args ...any) error {
	return &invalidError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

// mapping checks that n is a mapping whose keys are all in known and appear
// once, and returns the value nodes by key. where names the mapping in the
// unknown-key message ("image \"ubuntu-22.04\"").
func mapping(n *yaml.Node, path, where string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "%s: want a mapping", path)
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(known, k.Value) {
			return nil, errAt(k, "unknown key %q in %s (known: %s)", k.Value, where, strings.Join(known, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, errAt(k, "duplicate key %q in %s", k.Value, where)
		}
		out[k.Value] = v
	}
	return out, nil
}

// describe names a mapping for messages: `kind "id"` when it has a scalar
// id, else its path.
func describe(n *yaml.Node, kind, path string) string {
	if n.Kind != yaml.MappingNode {
		return path
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" && n.Content[i+1].Kind == yaml.ScalarNode && n.Content[i+1].Value != "" {
			return fmt.Sprintf("%s %q", kind, n.Content[i+1].Value)
		}
	}
	return path
}

// str returns the text of a scalar node; nil and null give "".
func str(n *yaml.Node, path string) (string, error) {
	if n == nil || n.Tag == "!!null" {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", errAt(n, "%s: want a string", path)
	}
	return n.Value, nil
}

// required returns the non-empty string at m[key]; parent locates the
// error when the key is missing.
func required(m map[string]*yaml.Node, key string, parent *yaml.Node, path string) (string, error) {
	s, err := str(m[key], path+"."+key)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", errAt(parent, "%s: missing required key %q", path, key)
	}
	return s, nil
}

// date parses a YYYY-MM-DD node as 00:00 UTC of that day; nil and null give
// the zero time.
func date(n *yaml.Node, path string) (time.Time, error) {
	s, err := str(n, path)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, errAt(n, "%s: %q is not a date (want YYYY-MM-DD)", path, s)
	}
	return t, nil
}

// boolean decodes a true/false node; nil gives false.
func boolean(n *yaml.Node, path string) (bool, error) {
	if n == nil {
		return false, nil
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, errAt(n, "%s: %q is not true or false", path, n.Value)
	}
	return b, nil
}

// count decodes a whole number >= 0; nil gives def.
func count(n *yaml.Node, path string, def int) (int, error) {
	if n == nil {
		return def, nil
	}
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || i < 0 {
		return 0, errAt(n, "%s: %q is not a whole number >= 0", path, n.Value)
	}
	return i, nil
}

// sequence checks that n is a sequence (nil is an empty one) and returns its
// items.
func sequence(n *yaml.Node, path string) ([]*yaml.Node, error) {
	if n == nil || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, "%s: want a list", path)
	}
	return n.Content, nil
}

// stringList returns a sequence of non-empty strings.
func stringList(n *yaml.Node, path string) ([]string, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, err := str(it, p)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, errAt(it, "%s: empty string", p)
		}
		out = append(out, s)
	}
	return out, nil
}
