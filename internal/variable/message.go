package variable

import (
	"errors"
	"fmt"
	"strings"
)

// MessagePrefix starts every service message line.
const MessagePrefix = "##dynpool["

// SetVariable is what a setVariable service message asks for.
type SetVariable struct {
	Name      string
	Value     string
	Sensitive bool
}

// ErrNotMessage is returned by [Parse] for a line that is not a service
// message at all (it does not start with MessagePrefix).
var ErrNotMessage = errors.New("not a service message")

// Parse reads one output line as a service message:
//
//	##dynpool[setVariable name='NAME' value='VALUE' sensitive='true']
//
// The line starts with ##dynpool[ (no leading space) and ends with ]
// (trailing spaces and a CR are ignored). Attributes are name='…',
// value='…' (both required) and sensitive='true' or 'false' (default
// false), in any order, separated by spaces. Inside quotes | escapes: ||
// is |, |' is ', |n is a newline, |r is a carriage return, |[ and |] are
// [ and ] (optional: a bare ] inside quotes is kept). Any other | escape,
// an unknown message or attribute, or a bad name is an error that does not
// quote the value; a line not starting with the prefix is ErrNotMessage.
func Parse(line string) (*SetVariable, error) {
	rest, ok := strings.CutPrefix(line, MessagePrefix)
	if !ok {
		return nil, ErrNotMessage
	}
	rest = strings.TrimRight(rest, " \t\r")
	body, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return nil, errors.New("a service message ends with ]")
	}
	verb, attrs, _ := strings.Cut(body, " ")
	if verb != "setVariable" {
		return nil, fmt.Errorf("unknown service message %q (the one known is setVariable)", verb)
	}
	values, err := parseAttributes(attrs)
	if err != nil {
		return nil, err
	}
	sv := &SetVariable{Name: values["name"], Value: values["value"]}
	if _, ok := values["name"]; !ok {
		return nil, errors.New("setVariable needs name='…'")
	}
	if _, ok := values["value"]; !ok {
		return nil, fmt.Errorf("setVariable %s needs value='…'", sv.Name)
	}
	switch values["sensitive"] {
	case "", "false":
	case "true":
		sv.Sensitive = true
	default:
		return nil, fmt.Errorf("setVariable %s: sensitive is 'true' or 'false'", sv.Name)
	}
	if err := CheckName(sv.Name); err != nil {
		return nil, fmt.Errorf("setVariable: %w", err)
	}
	if len(sv.Value) > MaxValueSize {
		return nil, fmt.Errorf("setVariable %s: the value is longer than %d bytes", sv.Name, MaxValueSize)
	}
	return sv, nil
}

// parseAttributes reads `key='value' key='value'` with | escapes.
func parseAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out, nil
		}
		key, rest, ok := strings.Cut(s, "='")
		if !ok || strings.ContainsAny(key, " '") {
			return nil, errors.New("attributes are written key='value'")
		}
		switch key {
		case "name", "value", "sensitive":
		default:
			return nil, fmt.Errorf("unknown attribute %q (known: name, value, sensitive)", key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("attribute %q is given twice", key)
		}
		var b strings.Builder
		closed := false
		i := 0
		for ; i < len(rest) && !closed; i++ {
			switch c := rest[i]; c {
			case '\'':
				closed = true
			case '|':
				if i+1 == len(rest) {
					return nil, errors.New("a | at the end of the line escapes nothing")
				}
				i++
				switch rest[i] {
				case '|', '\'', '[', ']':
					b.WriteByte(rest[i])
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				default:
					return nil, fmt.Errorf("unknown escape |%c (known: || |' |n |r |[ |])", rest[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		if !closed {
			return nil, fmt.Errorf("the value of %q has no closing quote", key)
		}
		out[key] = b.String()
		s = rest[i:]
		if s != "" && s[0] != ' ' {
			return nil, errors.New("attributes are separated by spaces")
		}
	}
}

// Escape returns value escaped for a service message: | ' newline CR [ ]
// become || |' |n |r |[ |].
func Escape(value string) string {
	return escaper.Replace(value)
}

var escaper = strings.NewReplacer("|", "||", "'", "|'", "\n", "|n", "\r", "|r", "[", "|[", "]", "|]")

// Format returns the service message line that sets v.
func Format(v SetVariable) string {
	return fmt.Sprintf("%ssetVariable name='%s' value='%s' sensitive='%t']", MessagePrefix, Escape(v.Name), Escape(v.Value), v.Sensitive)
}
