package steptemplate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
	"github.com/dynpool/dynpool/internal/variable"
)

// Keys of the library format dynpool reads.
const (
	// ActionScript is the only ActionType dynpool runs.
	ActionScript = "Octopus.Script"
	// PropScriptBody and PropSyntax are the Properties of a script step.
	PropScriptBody   = "Octopus.Action.Script.ScriptBody"
	PropSyntax       = "Octopus.Action.Script.Syntax"
	PropScriptSource = "Octopus.Action.Script.ScriptSource"
	// ControlSensitive is the DisplaySettings "Octopus.ControlType" of a
	// sensitive parameter.
	ControlSensitive = "Sensitive"
	controlTypeKey   = "Octopus.ControlType"
)

// Limits on a template file.
const (
	MaxParameters = 100
	MaxNameLength = 200
)

// syntaxes maps the library's Octopus.Action.Script.Syntax to dynpool's.
var syntaxes = map[string]string{"Bash": "bash", "PowerShell": "pwsh", "Python": "python"}

// file is the part of a library file dynpool reads; other keys (Id's
// siblings Category, Author, $Meta, LastModifiedBy, ...) are accepted
// and ignored.
type file struct {
	ID                  string                     `json:"Id"`
	Name                string                     `json:"Name"`
	Description         string                     `json:"Description"`
	ActionType          string                     `json:"ActionType"`
	Version             json.RawMessage            `json:"Version"`
	Properties          map[string]json.RawMessage `json:"Properties"`
	Parameters          []parameter                `json:"Parameters"`
	SensitiveProperties json.RawMessage            `json:"SensitiveProperties"`
	Packages            []json.RawMessage          `json:"Packages"`
}

type parameter struct {
	Name            string                     `json:"Name"`
	Label           string                     `json:"Label"`
	HelpText        string                     `json:"HelpText"`
	DefaultValue    json.RawMessage            `json:"DefaultValue"`
	DisplaySettings map[string]json.RawMessage `json:"DisplaySettings"`
}

// Parse reads one library file. It returns the template (without ID,
// TenantID, CreatedAt; Version 0 when the file has none) and warnings
// about parts dynpool ignores. A file that is not such a template is a
// *validation.Error whose field is the library key at fault, e.g.
// "ActionType" (another action type, named in the message),
// "Properties.Octopus.Action.Script.Syntax" or "Parameters[2].Name".
func Parse(data []byte) (*store.StepTemplate, []string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as Windows editors write
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, nil, validation.Errorf("", "not a step template in the library's JSON format: %v", err)
	}
	t := &store.StepTemplate{Name: strings.TrimSpace(f.Name), Description: f.Description, LibraryID: f.ID}
	switch {
	case t.Name == "":
		return nil, nil, validation.Errorf("Name", "the template has no name")
	case len(t.Name) > MaxNameLength:
		return nil, nil, validation.Errorf("Name", "is longer than %d characters", MaxNameLength)
	case f.ActionType == "":
		return nil, nil, validation.Errorf("ActionType", "is missing; dynpool runs %s templates only", ActionScript)
	case f.ActionType != ActionScript:
		return nil, nil, validation.Errorf("ActionType", "%q is not supported: dynpool runs script templates (%s) only", f.ActionType, ActionScript)
	}
	v, err := parseVersion(f.Version)
	if err != nil {
		return nil, nil, err
	}
	t.Version = v
	var warnings []string
	if t.ScriptBody, err = stringProperty(f.Properties, PropScriptBody); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(t.ScriptBody) == "" {
		return nil, nil, validation.Errorf("Properties."+PropScriptBody, "the script body is missing or empty")
	}
	if src, err := stringProperty(f.Properties, PropScriptSource); err != nil {
		return nil, nil, err
	} else if src != "" && src != "Inline" {
		return nil, nil, validation.Errorf("Properties."+PropScriptSource, "%q is not supported: dynpool runs inline scripts only", src)
	}
	syntax, err := stringProperty(f.Properties, PropSyntax)
	if err != nil {
		return nil, nil, err
	}
	if syntax == "" {
		syntax = "PowerShell"
		warnings = append(warnings, "the file names no script syntax; PowerShell assumed, as the library does")
	}
	if t.Syntax = syntaxes[syntax]; t.Syntax == "" {
		return nil, nil, validation.Errorf("Properties."+PropSyntax, "%q is not supported: want Bash, PowerShell or Python", syntax)
	}
	if len(f.Packages) > 0 {
		warnings = append(warnings, fmt.Sprintf("the template references %d package(s); dynpool does not fetch packages, the script runs without them", len(f.Packages)))
	}
	sensitive, err := sensitiveNames(f.SensitiveProperties)
	if err != nil {
		return nil, nil, err
	}
	if t.Parameters, err = parameters(f.Parameters, sensitive); err != nil {
		return nil, nil, err
	}
	if err := checkText(t); err != nil {
		return nil, nil, err
	}
	if names := SystemVariables(t.ScriptBody); len(names) > 0 {
		warnings = append(warnings, SystemVariablesWarning(names))
	}
	return t, warnings, nil
}

// Digest returns the hex SHA-256 of what a template runs: name, syntax,
// body and parameters (before any sealing), so importing one file twice
// is recognised.
func Digest(t *store.StepTemplate) string {
	b, _ := json.Marshal([]any{t.Name, t.Description, t.Syntax, t.ScriptBody, t.Parameters})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// parseVersion reads the file's Version: absent, null or a whole number
// from 1 (as a number or a string of digits).
func parseVersion(raw json.RawMessage) (int, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, validation.Errorf("Version", "%s is not a whole number", raw)
	}
	return v, nil
}

// stringProperty returns Properties[key], "" when absent or null.
func stringProperty(props map[string]json.RawMessage, key string) (string, error) {
	raw, ok := props[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", validation.Errorf("Properties."+key, "is not a string")
	}
	return s, nil
}

// sensitiveNames reads SensitiveProperties: an object whose keys, or an
// array whose strings, name sensitive parameters.
func sensitiveNames(raw json.RawMessage) (map[string]bool, error) {
	out := map[string]bool{}
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return out, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err == nil {
		for k := range obj {
			out[k] = true
		}
		return out, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, validation.Errorf("SensitiveProperties", "is neither an object nor a list of names")
	}
	for _, k := range list {
		out[k] = true
	}
	return out, nil
}

// parameters checks the file's parameters: a name each, once, usable as
// an environment variable name (no '=', not DYNPOOL_...).
func parameters(in []parameter, sensitive map[string]bool) ([]store.StepTemplateParameter, error) {
	if len(in) > MaxParameters {
		return nil, validation.Errorf("Parameters", "a template has at most %d parameters, this one has %d", MaxParameters, len(in))
	}
	seen := map[string]bool{}
	var out []store.StepTemplateParameter
	for i, p := range in {
		field := fmt.Sprintf("Parameters[%d]", i)
		name := strings.TrimSpace(p.Name)
		switch {
		case name == "":
			return nil, validation.Errorf(field+".Name", "the parameter has no name")
		case len(name) > variable.MaxNameLength:
			return nil, validation.Errorf(field+".Name", "%q is longer than %d characters", name, variable.MaxNameLength)
		case strings.ContainsAny(name, "={}\x00\n"):
			return nil, validation.Errorf(field+".Name", "%q contains '=', a brace or a line break", name)
		case strings.HasPrefix(strings.ToUpper(name), variable.ReservedPrefix):
			return nil, validation.Errorf(field+".Name", "%q starts with %s, which dynpool keeps for its own variables", name, variable.ReservedPrefix)
		case seen[strings.ToLower(name)]:
			return nil, validation.Errorf(field+".Name", "%q is given twice", name)
		}
		seen[strings.ToLower(name)] = true
		q := store.StepTemplateParameter{Name: name, Label: p.Label, HelpText: p.HelpText, Sensitive: sensitive[name]}
		if ct, ok := p.DisplaySettings[controlTypeKey]; ok {
			_ = json.Unmarshal(ct, &q.ControlType) // a non-string control type is only not shown
		}
		if q.ControlType == ControlSensitive {
			q.Sensitive = true
		}
		def, ok, err := defaultValue(p.DefaultValue)
		if err != nil {
			return nil, validation.Errorf(field+".DefaultValue", "%v", err)
		}
		if len(def) > variable.MaxValueSize {
			return nil, validation.Errorf(field+".DefaultValue", "is longer than %d bytes", variable.MaxValueSize)
		}
		q.DefaultValue, q.HasDefault = def, ok
		out = append(out, q)
	}
	return out, nil
}

// defaultValue reads a DefaultValue: a string, a number or a boolean (as
// its JSON text); null, absent or "" is no default, so a step must give
// the value (the library has no "required" flag and writes "" for one).
func defaultValue(raw json.RawMessage) (string, bool, error) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "" || s == "null":
		return "", false, nil
	case s[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false, err
		}
		return v, v != "", nil // the library writes "" for "no default"
	case s[0] == '{' || s[0] == '[':
		return "", false, fmt.Errorf("is an object or a list, not a value")
	}
	return s, true, nil
}

// checkText checks that every text of t can be stored: valid UTF-8
// without NUL (a JSON "\u0000" decodes to one).
func checkText(t *store.StepTemplate) error {
	texts := [][2]string{{"Name", t.Name}, {"Description", t.Description}, {"Id", t.LibraryID},
		{"Properties." + PropScriptBody, t.ScriptBody}}
	for i, p := range t.Parameters {
		f := fmt.Sprintf("Parameters[%d].", i)
		texts = append(texts, [2]string{f + "Name", p.Name}, [2]string{f + "Label", p.Label},
			[2]string{f + "HelpText", p.HelpText}, [2]string{f + "DefaultValue", p.DefaultValue},
			[2]string{f + "DisplaySettings", p.ControlType})
	}
	for _, x := range texts {
		if err := validation.Text(x[0], x[1]); err != nil {
			return err
		}
	}
	return nil
}
