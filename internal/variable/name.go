package variable

import (
	"fmt"
	"strings"
)

// Limits on variables.
const (
	// MaxNameLength bounds a variable name (bytes).
	MaxNameLength = 128
	// MaxValueSize bounds one value (bytes). A service message carries it
	// on one output line, which must fit the agent's 64 KiB line limit.
	MaxValueSize = 32 << 10
	// MaxVariables bounds the input variables of a task and its steps
	// together, and separately its output variables.
	MaxVariables = 500
	// ReservedPrefix starts the names dynpool sets itself
	// (DYNPOOL_WORKER_ID, DYNPOOL_JOB_TOKEN, ...); variables may not use it.
	ReservedPrefix = "DYNPOOL_"
)

// Mask replaces a sensitive value in every log line.
const Mask = "********"

// CheckName returns nil when name can be a variable: a portable
// environment variable name (a letter or underscore, then letters, digits
// and underscores, ASCII), at most MaxNameLength bytes, not starting with
// ReservedPrefix (in any case). The error says what is wrong, for a 400.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the name is empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("the name is longer than %d characters", MaxNameLength)
	case strings.HasPrefix(strings.ToUpper(name), ReservedPrefix):
		return fmt.Errorf("%q starts with %s, which dynpool keeps for its own variables", name, ReservedPrefix)
	}
	for i, c := range name {
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return fmt.Errorf("%q is not an environment variable name: use letters, digits and underscores, not starting with a digit", name)
		}
	}
	return nil
}
