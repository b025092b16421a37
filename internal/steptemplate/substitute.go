package steptemplate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/dynpool/dynpool/internal/validation"
)

// Value is one variable #{Name} may name.
type Value struct {
	Value     string
	Sensitive bool
}

// Substitute replaces each #{Name} in body whose Name is in values
// (matched ignoring case, as the library's variable syntax does) by its
// value, and "##{" by a literal "#{". A reference it leaves as is, with a
// warning: an unknown name, an Octopus system variable, or an expression
// dynpool does not evaluate (#{if}, #{each}, filters "|"). A reference
// to a sensitive value is a *validation.Error on field: the value would
// be written into the stored script, so the script must read it with
// get_octopusvariable or $OctopusParameters instead.
func Substitute(field, body string, values map[string]Value) (string, []string, error) {
	lower := make(map[string]Value, len(values))
	for k, v := range values {
		lower[strings.ToLower(k)] = v
	}
	var (
		b        strings.Builder
		warnings []string
		warned   = map[string]bool{}
	)
	warn := func(format string, args ...any) {
		w := fmt.Sprintf(format, args...)
		if !warned[w] {
			warned[w] = true
			warnings = append(warnings, w)
		}
	}
	for {
		i := strings.Index(body, "#{")
		if i < 0 {
			b.WriteString(body)
			break
		}
		if i > 0 && body[i-1] == '#' { // "##{" is a literal "#{"
			b.WriteString(body[:i-1])
			b.WriteString("#{")
			body = body[i+2:]
			continue
		}
		end := strings.IndexByte(body[i:], '}')
		if end < 0 {
			b.WriteString(body)
			break
		}
		ref := body[i : i+end+1]
		name := strings.TrimSpace(ref[2 : len(ref)-1])
		b.WriteString(body[:i])
		body = body[i+end+1:]
		v, known := lower[strings.ToLower(name)]
		switch {
		case known && v.Sensitive:
			return "", nil, validation.Errorf(field, "the script substitutes the sensitive parameter %s (%s); dynpool does not write sensitive values into scripts: read it with get_octopusvariable or $OctopusParameters", name, ref)
		case known:
			b.WriteString(v.Value)
			continue
		case isExpression(name):
			warn("%s is an expression dynpool does not evaluate; it is left in the script as is", ref)
		case isSystemVariable(name):
			warn("%s is an Octopus system variable dynpool does not set; it is left in the script as is", ref)
		default:
			warn("%s names no parameter or variable of the step; it is left in the script as is", ref)
		}
		b.WriteString(ref)
	}
	return b.String(), warnings, nil
}

// isExpression reports whether a #{...} holds more than a name: a
// conditional, a loop or a filter.
func isExpression(s string) bool {
	for _, kw := range []string{"if ", "unless ", "each ", "/", "else"} {
		if strings.HasPrefix(s, kw) {
			return true
		}
	}
	return strings.ContainsAny(s, "|(")
}

func isSystemVariable(name string) bool { return strings.HasPrefix(name, "Octopus.") }

// systemVariableRef finds an Octopus system variable named in a script: in
// quotes (get_octopusvariable "Octopus.X", $OctopusParameters['Octopus.X'])
// or in #{...}.
var systemVariableRef = regexp.MustCompile(`["'{]\s*(Octopus\.[A-Za-z][A-Za-z0-9_.\[\]]*)`)

// SystemVariables returns the Octopus system variables (Octopus.*) body
// reads, sorted, each once. dynpool does not set them.
func SystemVariables(body string) []string {
	var out []string
	for _, m := range systemVariableRef.FindAllStringSubmatch(body, -1) {
		name := strings.TrimRight(m[1], ".")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// SystemVariablesWarning is the warning for a script that reads names.
func SystemVariablesWarning(names []string) string {
	return fmt.Sprintf("the script reads Octopus system variable(s) %s, which dynpool does not set: they read as empty", strings.Join(names, ", "))
}
