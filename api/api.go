// Package api holds the JSON wire types shared by the dynpool server, the
// worker agent and the client. It is a leaf package: it imports nothing of
// dynpool's own, so any tool may depend on it.
//
// Durations travel as Go duration strings ("90m", "72h"), times as RFC 3339
// with nanoseconds in UTC, and dates (catalog days) as "2006-01-02".
package api

import "time"

// Error is the body of every 4xx and 5xx answer:
// {"error":{"code":"invalid_argument","message":"...","field":"steps[0].script"}}.
type Error struct {
	// Code is a stable machine-readable word, one of the Code* constants.
	Code string `json:"code"`
	// Message is a human-readable sentence that says what is wrong and,
	// where there is one, the fix.
	Message string `json:"message"`
	// Field names the offending request field, JSON-path style, if any.
	Field string `json:"field,omitempty"`
}

// ErrorResponse wraps Error as the body of a failed request.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error codes. Each maps to one HTTP status, set in one place on the server.
const (
	CodeInvalidArgument = "invalid_argument"  // 400
	CodeMalformedJSON   = "malformed_json"    // 400
	CodeUnauthenticated = "unauthenticated"   // 401
	CodeForbidden       = "forbidden"         // 403
	CodeNotFound        = "not_found"         // 404
	CodeConflict        = "conflict"          // 409
	CodeTooLarge        = "request_too_large" // 413
	CodeRequestTimeout  = "request_timeout"   // 408: the body came too slowly
	CodeRateLimited     = "rate_limited"      // 429, with Retry-After
	CodeInternal        = "internal"          // 500
	CodeUnavailable     = "unavailable"       // 503
)

// CreateTenantRequest is the body of POST /api/v1/admin/tenants.
type CreateTenantRequest struct {
	Name string `json:"name"`
}

// Tenant is one customer instance. APIKey is set only in the answer to the
// request that created it: the server keeps only its hash.
type Tenant struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	APIKey string `json:"api_key,omitempty"`
	// IdleTimeout and MaxLifetime are the effective values for this tenant
	// (its override, else the server default), as Go duration strings.
	IdleTimeout string `json:"idle_timeout"`
	MaxLifetime string `json:"max_lifetime"`
	// MaxWorkers is the most live workers the tenant may hold; 0 means no limit.
	MaxWorkers int       `json:"max_workers"`
	CreatedAt  time.Time `json:"created_at"`
}

// TenantList is the body of GET /api/v1/admin/tenants.
type TenantList struct {
	Tenants []Tenant `json:"tenants"`
}

// UpdateTenantRequest is the body of PATCH /api/v1/admin/tenants/{id}.
// A nil field is left unchanged; an empty duration string removes the
// override so the server default applies again.
type UpdateTenantRequest struct {
	IdleTimeout *string `json:"idle_timeout,omitempty"`
	MaxLifetime *string `json:"max_lifetime,omitempty"`
	MaxWorkers  *int    `json:"max_workers,omitempty"`
}

// Image status values, in lifecycle order.
const (
	ImageStatusPreview        = "preview"
	ImageStatusActive         = "active"
	ImageStatusDeprecated     = "deprecated"
	ImageStatusDecommissioned = "decommissioned"
)

// Image is one worker image of the catalog.
type Image struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	OS     string `json:"os"`
	Family string `json:"family"`
	// Status is one of the ImageStatus* values at the server's clock.
	Status          string  `json:"status"`
	StartDate       string  `json:"start_date,omitempty"`
	DeprecationDate string  `json:"deprecation_date,omitempty"`
	EndOfLifeDate   string  `json:"end_of_life_date,omitempty"`
	Tools           []Tool  `json:"tools"`
	Builds          []Build `json:"builds"`
	// Brownouts are the windows, ahead of the end of life, during which
	// steps on the image fail; only those not over yet.
	Brownouts []Brownout `json:"brownouts,omitempty"`
}

// Brownout is one window [From, To) in which steps on an image fail.
type Brownout struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Tool is one entry of an image's tool manifest. Path, when set, is a
// template in which {{version}} stands for each of Versions.
type Tool struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
	Path     string   `json:"path,omitempty"`
}

// Build is one rebuild of an image.
type Build struct {
	Version  string `json:"version"`
	Released string `json:"released"`
}

// AddBuildRequest is the body of POST /api/v1/admin/images/{id}/builds: a
// new build of the image, used for new workers from its release day. It
// lasts until the catalog is reloaded or the server restarts; add it to
// the catalog file to keep it.
type AddBuildRequest struct {
	Version string `json:"version"`
	// Released is a UTC day, "2006-01-02".
	Released string `json:"released"`
	// Artifacts says per provider how to make a worker of this build, as
	// in the catalog file: {"process": "", "docker": "registry/image:tag"}.
	Artifacts map[string]string `json:"artifacts"`
}

// Deprecation is a pool whose image is deprecated or decommissioned, with
// the time left.
type Deprecation struct {
	TenantID   string `json:"tenant_id"`
	TenantName string `json:"tenant_name"`
	PoolID     string `json:"pool_id"`
	PoolName   string `json:"pool_name"`
	Image      string `json:"image"`
	ImageName  string `json:"image_name"`
	// Status is the image's: deprecated, or decommissioned when steps on
	// the pool fail already.
	Status string `json:"status"`
	// EndOfLifeDate is the day steps on the pool start failing.
	EndOfLifeDate string `json:"end_of_life_date"`
	// DaysLeft counts days (a part day as one) until EndOfLifeDate; 0 once
	// it has come.
	DaysLeft int `json:"days_left"`
}

// DeprecationList is the body of GET /api/v1/admin/deprecations.
type DeprecationList struct {
	Deprecations []Deprecation `json:"deprecations"`
}

// Alias is a generic image choice that resolves to the newest stable image
// of its family at the time a worker is created.
type Alias struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	OS         string `json:"os"`
	ResolvesTo string `json:"resolves_to"`
}

// ImageList is the body of GET /api/v1/images.
type ImageList struct {
	Images  []Image `json:"images"`
	Aliases []Alias `json:"aliases"`
}

// Pool types.
const (
	PoolTypeDynamic = "dynamic"
	PoolTypeStatic  = "static"
)

// Pool is a worker pool of a tenant.
type Pool struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	// Image is the image id or alias id the pool was configured with.
	Image string `json:"image"`
	// ResolvedImage is the image id that Image names today.
	ResolvedImage string `json:"resolved_image"`
	IsDefault     bool   `json:"is_default"`
	// MaxWorkers is the pool's limit of live workers; 0 means none.
	MaxWorkers int `json:"max_workers"`
	// Capacity is how many steps of the tenant one worker of the pool
	// runs at once (1 to MaxPoolCapacity).
	Capacity int `json:"capacity"`
	// Deprecated is true when ResolvedImage is deprecated and Image is not
	// an alias.
	Deprecated bool `json:"deprecated"`
	// ImageStatus is what steps on the pool meet today: one of the
	// ImageStatus* values ("active" for an alias whose target is
	// deprecated, since the alias moves on by itself), or "" when the
	// image does not resolve.
	ImageStatus string   `json:"image_status"`
	Warnings    []string `json:"warnings"`
	// MachinePolicy is a static pool's, with the figures that apply (the
	// server's defaults where the pool sets none); nil for a dynamic pool.
	MachinePolicy *MachinePolicy `json:"machine_policy,omitempty"`
}

// MachinePolicy is how a static pool watches its machines, durations as
// Go strings: its agents heartbeat every HeartbeatInterval, and a worker
// whose agent is silent for UnavailableAfter becomes unavailable (no step
// until it heartbeats again). In a request "" means the server's default
// (5s and 30s unless the operator changed them).
type MachinePolicy struct {
	HeartbeatInterval string `json:"heartbeat_interval"`
	UnavailableAfter  string `json:"unavailable_after"`
	// HealthCheck is the pool's health check as it applies (defaults
	// filled in), nil for none. Set only by the health_check field of
	// CreatePoolRequest and UpdatePoolRequest, so that changing the
	// heartbeat figures leaves the check alone: a request may send back
	// the pool's current check here (ignored), any other is a 400.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
}

// HealthCheck is a script the agents of a static pool run while idle
// (never while a step runs), every Interval, stopped after Timeout. Its
// outcome follows from its exit code: 0 is HealthHealthy (HealthWarning
// when a line of its output starts with "WARNING:"),
// HealthCheckWarningExitCode is HealthWarning, anything else, a timeout
// included, is HealthFailed; a worker whose last check failed gets no
// step until a later one passes. Durations are Go strings.
type HealthCheck struct {
	// Syntax is one of the step syntaxes (bash, sh, python, pwsh);
	// default bash.
	Syntax string `json:"syntax,omitempty"`
	// Script is the script; in an UpdatePoolRequest "" removes the check.
	Script string `json:"script"`
	// Interval is how often it runs, from 10s to 24h; default 5m.
	Interval string `json:"interval,omitempty"`
	// Timeout stops a check that runs longer, from 1s to 10m and at most
	// Interval; default 1m.
	Timeout string `json:"timeout,omitempty"`
}

// HealthCheckWarningExitCode is the exit code of a health check that
// passes with a warning.
const HealthCheckWarningExitCode = 2

// Health-check outcomes (WorkerHealth.Status).
const (
	HealthHealthy = "healthy"
	HealthWarning = "warning"
	HealthFailed  = "failed"
)

// WorkerHealth is the outcome of a static worker's last health check.
type WorkerHealth struct {
	// Status is HealthHealthy, HealthWarning or HealthFailed.
	Status string `json:"status"`
	// Message is the last lines of the check's output (at most 1 KiB),
	// or why it could not run.
	Message string `json:"message,omitempty"`
	// CheckedAt is when the server recorded the outcome.
	CheckedAt *time.Time `json:"checked_at,omitempty"`
}

// PoolList is the body of GET /api/v1/pools.
type PoolList struct {
	Pools []Pool `json:"pools"`
}

// CreatePoolRequest is the body of POST /api/v1/pools. Type defaults to
// dynamic. The first pool of a tenant becomes its default pool.
type CreatePoolRequest struct {
	Name      string `json:"name"`
	Type      string `json:"type,omitempty"`
	Image     string `json:"image"`
	IsDefault bool   `json:"is_default,omitempty"`
	// MaxWorkers is the most live workers the pool may hold; 0 means no
	// limit but the tenant's.
	MaxWorkers int `json:"max_workers,omitempty"`
	// Capacity is how many steps of the tenant one worker runs at once,
	// 1 to MaxPoolCapacity; 0 means 1. Dynamic pools only.
	Capacity int `json:"capacity,omitempty"`
	// MachinePolicy, for a static pool only; nil means the defaults.
	MachinePolicy *MachinePolicy `json:"machine_policy,omitempty"`
	// HealthCheck, for a static pool only; nil means none.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
}

// MaxPoolCapacity bounds a pool's capacity: beyond it, one worker's
// machine would hardly run that many steps well; make more workers.
const MaxPoolCapacity = 32

// UpdatePoolRequest is the body of PATCH /api/v1/pools/{id}; a nil field is
// left unchanged. IsDefault may only be set to true (another pool then
// loses the flag).
type UpdatePoolRequest struct {
	Name       *string `json:"name,omitempty"`
	Image      *string `json:"image,omitempty"`
	IsDefault  *bool   `json:"is_default,omitempty"`
	MaxWorkers *int    `json:"max_workers,omitempty"`
	Capacity   *int    `json:"capacity,omitempty"`
	// MachinePolicy replaces a static pool's policy; "" fields go back to
	// the server's defaults.
	MachinePolicy *MachinePolicy `json:"machine_policy,omitempty"`
	// HealthCheck replaces a static pool's health check; a Script of ""
	// removes it (and its workers' last outcome with it).
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
}

// Script syntaxes a step may use.
const (
	SyntaxBash       = "bash"
	SyntaxSh         = "sh"
	SyntaxPython     = "python"
	SyntaxPowerShell = "pwsh"
)

// CreateTaskRequest is the body of POST /api/v1/tasks.
type CreateTaskRequest struct {
	Name  string        `json:"name"`
	Steps []StepRequest `json:"steps"`
	// Variables reach every step's script as environment variables.
	Variables []Variable `json:"variables,omitempty"`
}

// StepRequest is one step of a CreateTaskRequest. Pool is a pool id or
// name; empty means the tenant's default pool. Syntax defaults to bash.
type StepRequest struct {
	Name      string     `json:"name"`
	Pool      string     `json:"pool,omitempty"`
	Syntax    string     `json:"syntax,omitempty"`
	Script    string     `json:"script"`
	Container *Container `json:"container,omitempty"`
	// Requires lists tools the pool's image must provide, checked before
	// a worker is acquired: "docker", "kubectl=1.22.6", "helm>=3" (also
	// >, <=, <). Tool names match ignoring case, spaces, dots and dashes.
	Requires []string `json:"requires,omitempty"`
	// Variables reach this step's script; they win over the task's.
	Variables []Variable `json:"variables,omitempty"`
	// Template, in place of Script and Syntax, runs a step template
	// (docs/templates.md).
	Template *StepTemplateRef `json:"template,omitempty"`
}

// Container names the execution container a step runs inside.
type Container struct {
	Image string `json:"image"`
}

// Task and step states.
const (
	StateQueued   = "queued"
	StateRunning  = "running"
	StateSuccess  = "success"
	StateFailed   = "failed"
	StateCanceled = "canceled"
	// StateSkipped is a step that did not run because an earlier step failed
	// or the task was canceled.
	StateSkipped = "skipped"
)

// Task is a deployment or runbook run.
type Task struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	State      string     `json:"state"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Steps      []Step     `json:"steps"`
	// Variables are the task's input variables and OutputVariables those
	// its steps set, sensitive ones without value (GET /api/v1/tasks/{id}
	// only).
	Variables       []Variable       `json:"variables,omitempty"`
	OutputVariables []OutputVariable `json:"output_variables,omitempty"`
}

// TaskList is the body of GET /api/v1/tasks: the tenant's newest tasks,
// newest first.
type TaskList struct {
	Tasks []Task `json:"tasks"`
}

// Step is one step of a Task.
type Step struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	PoolID   string `json:"pool_id"`
	Syntax   string `json:"syntax"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	Error    string `json:"error,omitempty"`
	// Requires echoes the step's tool requirements.
	Requires []string `json:"requires,omitempty"`
	// Variables are the step's input variables, sensitive ones without
	// value (GET /api/v1/tasks/{id} only).
	Variables []Variable `json:"variables,omitempty"`
}

// Log levels of a task log line.
const (
	LevelVerbose = "verbose"
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"
)

// LogLine is one line of a task log. Seq orders lines within a task and is
// what ?after= resumes from.
type LogLine struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Step    string    `json:"step,omitempty"`
	Message string    `json:"message"`
}

// LogList is the body of GET /api/v1/tasks/{id}/log. With ?follow=true the
// same lines arrive as server-sent events: "event: line" with a LogLine as
// data, and a final "event: end" with the Task as data.
type LogList struct {
	Lines []LogLine `json:"lines"`
}

// Worker states.
const (
	WorkerProvisioning = "provisioning"
	WorkerIdle         = "idle"
	WorkerBusy         = "busy"
	WorkerDraining     = "draining"
	WorkerDestroying   = "destroying"
	WorkerDestroyed    = "destroyed"
	WorkerLost         = "lost"
	// WorkerUnavailable: a static worker whose agent sent no heartbeat for
	// the heartbeat timeout; it gets no step until its agent heartbeats
	// again, and is never destroyed for it.
	WorkerUnavailable = "unavailable"
)

// Destroy reasons.
const (
	DestroyIdleTimeout  = "idle-timeout"
	DestroyMaxLifetime  = "max-lifetime"
	DestroyWorkerLost   = "worker-lost"
	DestroyRegistration = "registration-timeout"
	DestroyCreateFailed = "create-failed"
	DestroyOrphan       = "orphan"
	// DestroyUnresponsive: the agent did not stop a canceled script in time.
	DestroyUnresponsive = "unresponsive"
	// DestroyImageRebuilt: a newer build of the worker's image came out.
	DestroyImageRebuilt = "image-rebuilt"
	// DestroyImageChanged: the worker's pool now uses another image (the
	// pool was edited, or its alias moved to a new target).
	DestroyImageChanged = "image-changed"
	// DestroyImageDecommissioned: the worker's image reached end of life.
	DestroyImageDecommissioned = "image-decommissioned"
	// DestroyPoolDeleted: the worker's pool was deleted.
	DestroyPoolDeleted = "pool-deleted"
	// DestroyStandbySurplus: a standby worker beyond the configured count
	// (the schedule lowered it, or its image left the standby list).
	DestroyStandbySurplus = "standby-surplus"
	// DestroyEvicted: an idle worker destroyed to make room under a worker
	// limit for a step that could not use it (another tenant's, pool's or
	// build's).
	DestroyEvicted = "evicted"
)

// Worker is one machine leased to a tenant.
type Worker struct {
	ID string `json:"id"`
	// Name is the name a static worker registered with.
	Name     string `json:"name,omitempty"`
	TenantID string `json:"tenant_id,omitempty"`
	PoolID   string `json:"pool_id"`
	Image    string `json:"image"`
	Build    string `json:"build"`
	Provider string `json:"provider"`
	State    string `json:"state"`
	// CreatedAt is when the worker was created; LeasedAt when it was bound
	// to its tenant; LastUsedAt when its last step ended.
	CreatedAt  time.Time  `json:"created_at"`
	LeasedAt   *time.Time `json:"leased_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// DestroyAt is when the worker is (or was) due for destruction: for an
	// idle worker the earlier of idle timeout and max lifetime.
	DestroyAt     *time.Time `json:"destroy_at,omitempty"`
	DestroyReason string     `json:"destroy_reason,omitempty"`
	// LastHeartbeatAt is the agent's last contact.
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at,omitempty"`
	// AgentVersion is the version the agent last reported ("" for an
	// agent that reports none).
	AgentVersion string `json:"agent_version,omitempty"`
	// Disabled is set on a static worker its tenant disabled: it gets no
	// step until enabled again.
	Disabled bool `json:"disabled,omitempty"`
	// HealthCheck is the outcome of a static worker's last health check;
	// nil before its first one or when its pool has none.
	HealthCheck *WorkerHealth `json:"health_check,omitempty"`
}

// WorkerList is the body of GET /api/v1/workers and /api/v1/admin/workers.
type WorkerList struct {
	Workers []Worker `json:"workers"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
}
