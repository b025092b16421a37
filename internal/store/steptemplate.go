package store

import (
	"context"
	"time"
)

// StepTemplate is one version of a tenant's step template. Versions of
// one Name share its ID. The store keeps a sensitive parameter's
// DefaultValue as given: the server seals it before it gets here.
type StepTemplate struct {
	ID       string
	TenantID string
	Name     string
	// Version counts from 1 per tenant and name.
	Version     int
	Description string
	// Syntax is a dynpool syntax: bash, pwsh or python.
	Syntax     string
	ScriptBody string
	Parameters []StepTemplateParameter
	// LibraryID is the file's own Id, if it had one.
	LibraryID string
	// Digest (hex SHA-256) identifies the content, so importing the same
	// file twice is recognised.
	Digest    string
	CreatedAt time.Time
}

// StepTemplateParameter is one parameter of a StepTemplate.
type StepTemplateParameter struct {
	Name         string `json:"name"`
	Label        string `json:"label,omitempty"`
	HelpText     string `json:"help_text,omitempty"`
	DefaultValue string `json:"default_value,omitempty"`
	HasDefault   bool   `json:"has_default,omitempty"`
	Sensitive    bool   `json:"sensitive,omitempty"`
	ControlType  string `json:"control_type,omitempty"`
}

// StepTemplateStore keeps step templates, per tenant, in versions.
type StepTemplateStore interface {
	// StepTemplateCreate inserts version t.Version of template t.Name of
	// tenant t.TenantID. When the tenant has a template of that name, t.ID
	// is set to its id; a t.Version of 0 becomes one more than the newest
	// version. ErrConflict when that version exists, ErrNotFound for an
	// unknown tenant.
	StepTemplateCreate(ctx context.Context, t *StepTemplate) error
	// StepTemplateGet returns version (0: the newest) of template id of
	// the tenant, or ErrNotFound.
	StepTemplateGet(ctx context.Context, tenantID, id string, version int) (*StepTemplate, error)
	// StepTemplateList returns the newest version of each template of
	// the tenant, by name.
	StepTemplateList(ctx context.Context, tenantID string) ([]*StepTemplate, error)
	// StepTemplateDelete deletes every version of template id of the
	// tenant; ErrNotFound when there is none.
	StepTemplateDelete(ctx context.Context, tenantID, id string) error
}
