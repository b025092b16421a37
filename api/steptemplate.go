package api

import "time"

// StepTemplate is a tenant's step template: a script with parameters,
// imported from a file in the community step-template library's JSON
// format (POST /api/v1/step-templates takes such a file as it is).
//
// GET /api/v1/step-templates lists the newest version of each template
// with ParameterNames only; GET /api/v1/step-templates/{id} answers the
// newest version (or ?version=N) with Parameters and ScriptBody. A
// sensitive parameter's default value is never returned.
type StepTemplate struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Version counts from 1 per name: the file's own Version when it has
	// one, else one more than the newest stored.
	Version     int    `json:"version"`
	Description string `json:"description,omitempty"`
	// Syntax is the dynpool syntax of the script: bash, pwsh or python.
	Syntax         string                  `json:"syntax"`
	ParameterNames []string                `json:"parameter_names,omitempty"`
	Parameters     []StepTemplateParameter `json:"parameters,omitempty"`
	ScriptBody     string                  `json:"script_body,omitempty"`
	CreatedAt      time.Time               `json:"created_at"`
	// Warnings name the parts of the file dynpool does not run (package
	// references, Octopus system variables the script reads).
	Warnings []string `json:"warnings,omitempty"`
}

// StepTemplateParameter is one parameter of a StepTemplate.
type StepTemplateParameter struct {
	Name     string `json:"name"`
	Label    string `json:"label,omitempty"`
	HelpText string `json:"help_text,omitempty"`
	// DefaultValue is left out for a sensitive parameter;
	// HasDefault says whether there is one.
	DefaultValue string `json:"default_value,omitempty"`
	HasDefault   bool   `json:"has_default"`
	Sensitive    bool   `json:"sensitive,omitempty"`
	// ControlType is the file's DisplaySettings "Octopus.ControlType"
	// (SingleLineText, MultiLineText, Sensitive, Checkbox, Select, ...).
	ControlType string `json:"control_type,omitempty"`
}

// StepTemplateList is the body of GET /api/v1/step-templates, by name.
type StepTemplateList struct {
	StepTemplates []StepTemplate `json:"step_templates"`
}

// StepTemplateRef is what a StepRequest gives in place of a script: a
// template of the tenant, its version (0: the newest) and parameter
// values by parameter name. A parameter not given takes the template's
// default; one with neither, or a name the template does not have,
// answers 400 naming it.
type StepTemplateRef struct {
	ID         string            `json:"id"`
	Version    int               `json:"version,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
}
