// Package store is the durable state of dynpool: tenants, pools, tasks,
// steps, task logs and workers. [Store] is the one seam behind which each
// backend (sqlite, postgres) sits; every backend passes the shared
// conformance suite in storetest.
//
// Every state change the server acts on is written here first (invariant 3
// of the design: nothing is lost). Methods are named noun then verb, take a
// params struct where they take more than an id, and return [ErrNotFound]
// or [ErrConflict] (wrapped) for the cases callers branch on.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	// ErrNotFound: no row matches (also: it belongs to another tenant).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule or a state guard did not hold.
	ErrConflict = errors.New("conflict")
	// ErrLimit: WorkerCreate or WorkerLeaseStandby found one of its
	// WorkerLimits reached; the error is a *LimitError saying which.
	ErrLimit = errors.New("worker limit reached")
	// ErrNoOwner: an empty task owner, which would claim nothing, or renew
	// or release the leases of every task without an owner.
	ErrNoOwner = errors.New("no owner given")
)

// Store is implemented by each backend. All times are stored and returned
// in UTC with at least microsecond precision.
type Store interface {
	// TenantCreate inserts t; ErrConflict when its id, name or API key
	// hash is taken.
	TenantCreate(ctx context.Context, t *Tenant) error
	// TenantGet returns ErrNotFound for an unknown id.
	TenantGet(ctx context.Context, id string) (*Tenant, error)
	// TenantGetByKeyHash finds the tenant whose API key hashes to hash.
	TenantGetByKeyHash(ctx context.Context, hash string) (*Tenant, error)
	TenantList(ctx context.Context) ([]*Tenant, error)
	// TenantUpdate writes the overrides of t (by t.ID).
	TenantUpdate(ctx context.Context, t *Tenant) error
	// APIKeyCreate adds key k to its tenant; ErrNotFound for an unknown
	// tenant, ErrConflict when its id or hash is taken.
	APIKeyCreate(ctx context.Context, k *APIKey) error
	// APIKeyList returns tenantID's keys, oldest first (none for an
	// unknown tenant).
	APIKeyList(ctx context.Context, tenantID string) ([]*APIKey, error)
	// APIKeyDelete removes key id of tenantID; ErrNotFound when tenantID
	// has no such key.
	APIKeyDelete(ctx context.Context, tenantID, id string) error

	// PoolCreate inserts p; ErrConflict if the tenant has a pool of that
	// name. If p.IsDefault, the tenant's other pools lose the flag in the
	// same transaction.
	PoolCreate(ctx context.Context, p *Pool) error
	// PoolGet finds a pool of the tenant by id, or else by name.
	PoolGet(ctx context.Context, tenantID, idOrName string) (*Pool, error)
	// PoolGetDefault returns the tenant's default pool or ErrNotFound.
	PoolGetDefault(ctx context.Context, tenantID string) (*Pool, error)
	PoolList(ctx context.Context, tenantID string) ([]*Pool, error)
	// PoolUpdate writes name, image, is_default, max_workers and the
	// machine policy of p (by tenant and id),
	// clearing is_default elsewhere when set; ErrConflict on a duplicate name.
	// When the health check's syntax or script changes (or the check is
	// removed), the same transaction clears the health outcome (status,
	// message, time) of the pool's workers: it was of the old check.
	PoolUpdate(ctx context.Context, p *Pool) error
	PoolDelete(ctx context.Context, tenantID, id string) error

	// TaskCreate inserts t and its steps (t.Steps, in order) in one
	// transaction.
	TaskCreate(ctx context.Context, t *Task) error
	// TaskGet returns the task with its steps in order. tenantID "" matches
	// any tenant (for the server's own use); otherwise another tenant's
	// task is ErrNotFound.
	TaskGet(ctx context.Context, tenantID, id string) (*Task, error)
	// TaskListUnfinished returns the tasks (with steps) whose FinishedAt is
	// nil, oldest first: queued and running ones, and canceled ones whose
	// running step has not stopped yet. Its cost follows the number
	// returned, not the task history.
	TaskListUnfinished(ctx context.Context) ([]*Task, error)
	// TaskList returns p.TenantID's tasks with their steps, newest first
	// (by created_at, then id, descending), at most p.Limit of them; an
	// empty TenantID or a Limit below 1 is an error.
	TaskList(ctx context.Context, p *TaskListParams) ([]*Task, error)
	// TaskUpdate writes state, error and finished_at of t (by id). When
	// fromStates is not empty it is a compare-and-set: the task's current
	// state must be one of them, else ErrConflict.
	TaskUpdate(ctx context.Context, t *Task, fromStates ...string) error
	// TaskClaim makes p.Owner the runner of unfinished task p.ID until
	// p.Until, when the task has no owner, is owned by p.Owner already, or
	// its owner's lease ended at or before p.Now; otherwise ErrConflict
	// (also for a finished task). ErrNotFound for an unknown id. Two
	// concurrent claimers never both succeed. An empty p.Owner is an
	// error, as it is for TaskRenew and TaskRelease.
	TaskClaim(ctx context.Context, p *TaskClaimParams) error
	// TaskRenew extends to until the lease of every unfinished task owned by
	// owner and returns how many it extended.
	TaskRenew(ctx context.Context, owner string, until time.Time) (int, error)
	// TaskRelease ends owner's leases on its unfinished tasks (owner_until =
	// the zero time), so another runner may claim them at once.
	TaskRelease(ctx context.Context, owner string) error

	// StepGet returns one step by id.
	StepGet(ctx context.Context, id string) (*Step, error)
	// StepUpdate writes state, worker_id, exit_code, error, started_at,
	// dispatched_at and finished_at of s (by id). When fromStates is not
	// empty it is a compare-and-set on the step's current state
	// (ErrConflict).
	StepUpdate(ctx context.Context, s *Step, fromStates ...string) error
	// StepDispatch sets dispatched_at of a running step that has none yet;
	// ErrConflict when the step is not running or was dispatched already.
	// Whoever sets it owns the hand-over of the job: the agent taking it,
	// or a cancel making sure no agent will.
	StepDispatch(ctx context.Context, id string, at time.Time) error
	// StepListByWorker returns the steps assigned to a worker in any of
	// states, oldest first.
	StepListByWorker(ctx context.Context, workerID string, states ...string) ([]*Step, error)

	// LogAppend appends lines to a task log, assigning each its Seq
	// (1, 2, 3, ... per task) in the slice it was given.
	LogAppend(ctx context.Context, taskID string, lines []LogLine) error
	// LogList returns up to limit lines with Seq > afterSeq, in order.
	LogList(ctx context.Context, taskID string, afterSeq int64, limit int) ([]LogLine, error)

	// WorkerCreate inserts w. It first checks limits against the workers
	// of w's tenant, pool and provider and answers a *LimitError (wrapping
	// ErrLimit) when one is reached, in the same transaction, so
	// concurrent creations on any number of servers never exceed them.
	WorkerCreate(ctx context.Context, w *Worker, limits WorkerLimits) error
	WorkerGet(ctx context.Context, id string) (*Worker, error)
	// WorkerGetByCredentialHash finds a live worker by its agent credential.
	WorkerGetByCredentialHash(ctx context.Context, hash string) (*Worker, error)
	// WorkerGetByRegistrationHash finds a provisioning worker by the hash of
	// its one-time registration token.
	WorkerGetByRegistrationHash(ctx context.Context, hash string) (*Worker, error)
	// WorkerUpdate is a compare-and-set: when p.FromStates is not empty the
	// worker's current state must be one of them, and when
	// p.HeartbeatBefore is set its last heartbeat must be before it, else
	// ErrConflict. It sets
	// State (when not empty) and every non-nil field, and returns the
	// updated worker; ErrNotFound for an unknown id.
	WorkerUpdate(ctx context.Context, p *WorkerUpdateParams) (*Worker, error)
	// WorkerAcquireIdle atomically leases a worker of p.TenantID,
	// p.PoolID, p.Image and p.Build created after p.CreatedAfter, not
	// disabled and whose last health check did not fail: a busy one
	// holding fewer than p.Capacity leases (the most loaded first, so
	// spare workers go idle and time out), else the idle
	// one used least recently whose DestroyAt is after p.Now. It adds one
	// lease, marks the worker busy and returns it; ErrNotFound when there
	// is none.
	WorkerAcquireIdle(ctx context.Context, p *WorkerAcquireIdleParams) (*Worker, error)
	// WorkerReleaseLease ends one lease of busy worker id when it holds
	// more than one, and returns it; ErrConflict when it holds one or
	// fewer (its last step: see WorkerUpdateParams.LastLease), ErrNotFound
	// for an unknown id.
	WorkerReleaseLease(ctx context.Context, id string) (*Worker, error)
	// WorkerLeaseStandby atomically picks the oldest idle standby worker
	// (no tenant) of p.Image and p.Build created after p.CreatedAfter and
	// whose DestroyAt is after p.Now,
	// binds it to p.TenantID and p.PoolID for good, marks it busy, leased
	// at p.Now, and returns it; ErrNotFound when there is none, and a
	// *LimitError when the tenant holds p.MaxLive > 0 live workers or the
	// pool p.MaxPool > 0 (counted in the same transaction, as WorkerCreate
	// does).
	WorkerLeaseStandby(ctx context.Context, p *WorkerLeaseStandbyParams) (*Worker, error)
	// WorkerList returns workers matching p, oldest first.
	WorkerList(ctx context.Context, p *WorkerListParams) ([]*Worker, error)
	// WorkerListExpired returns workers in any of states whose DestroyAt is
	// at or before now; its cost follows the number returned, not the fleet.
	WorkerListExpired(ctx context.Context, now time.Time, states ...string) ([]*Worker, error)

	// InstallationID returns the id of the installation this store belongs
	// to, recording proposed as that id on first use; every server on the
	// store gets the same answer, even when several start at once. An
	// empty proposed is an error.
	InstallationID(ctx context.Context, proposed string) (string, error)

	VariableStore
	ArtifactStore
	StepTemplateStore
	AuditStore
	RegistrationTokenStore
	LineStore

	Close() error
}

// LiveWorkerStates are the states of a worker that exists or is being
// made: what a tenant's worker limit counts.
// A static worker whose agent went silent is "unavailable": live, but
// given no step until its agent heartbeats again.
var LiveWorkerStates = []string{"provisioning", "idle", "busy", "draining", "destroying", "unavailable"}

// Tenant is a customer instance. Zero overrides mean "use the server default".
type Tenant struct {
	ID   string
	Name string
	// APIKeyHash is the hash of the key the tenant was created with.
	// TenantCreate also stores it as the tenant's first APIKey, with id
	// "k-"+ID and prefix APIKeyPrefix; from then on the keys authenticate
	// (TenantGetByKeyHash), and the admin may revoke this one.
	APIKeyHash   string
	APIKeyPrefix string
	// IdleTimeout and MaxLifetime override the server defaults when > 0.
	IdleTimeout time.Duration
	MaxLifetime time.Duration
	// MaxWorkers limits live workers when > 0.
	MaxWorkers int
	CreatedAt  time.Time
}

// APIKey is one API key of a tenant: its SHA-256 (KeyHash, hex) and its
// first characters (Prefix, e.g. "dpk_7hq2mzx4"), never the key itself.
type APIKey struct {
	ID        string
	TenantID  string
	Prefix    string
	KeyHash   string
	CreatedAt time.Time
}

// Pool is a worker pool of a tenant. Image is an image id or alias id.
type Pool struct {
	ID        string
	TenantID  string
	Name      string
	Type      string
	Image     string
	IsDefault bool
	CreatedAt time.Time
	// MaxWorkers limits the pool's live workers when > 0.
	MaxWorkers int
	// Capacity is how many steps of the tenant one worker of the pool
	// runs at once, 1 or more (the API's default is 1).
	Capacity int
	// HeartbeatInterval and UnavailableAfter are a static pool's machine
	// policy: how often its agents heartbeat, and how long one may be
	// silent before its worker is unavailable; 0 means the server's
	// default.
	HeartbeatInterval time.Duration
	UnavailableAfter  time.Duration
	// HealthCheck is a static pool's health-check script, the zero value
	// for none.
	HealthCheck HealthCheck
}

// HealthCheck is the script a static pool's agents run while idle, every
// Interval, stopped after Timeout; a machine whose last check failed gets
// no step. Script "" means no check.
type HealthCheck struct {
	Syntax   string
	Script   string
	Interval time.Duration
	Timeout  time.Duration
}

// Task is a deployment or runbook run with its ordered steps.
type Task struct {
	ID         string
	TenantID   string
	Name       string
	State      string
	Error      string
	CreatedAt  time.Time
	FinishedAt *time.Time
	// Owner names the server (replica) that runs the task, "" for none;
	// it holds the task until OwnerUntil (nil: no lease; the zero time: a
	// lease that has ended). TaskCreate writes both, TaskClaim, TaskRenew
	// and TaskRelease change them, TaskUpdate leaves them alone.
	Owner      string
	OwnerUntil *time.Time
	Steps      []*Step
	// Variables are the task's and its steps' inputs, written by
	// TaskCreate in its transaction; TaskGet leaves it nil (see
	// VariableList).
	Variables []*Variable
}

// TaskListParams selects the tasks TaskList returns: the newest Limit
// tasks of tenant TenantID.
type TaskListParams struct {
	TenantID string
	Limit    int
}

// TaskClaimParams makes Owner the runner of task ID until Until, unless
// another owner's lease is still running at Now.
type TaskClaimParams struct {
	ID    string
	Owner string
	Until time.Time
	Now   time.Time
}

// Step is one script of a task. DispatchedAt is set when an agent took
// the job; a running step without it has not started on its worker.
type Step struct {
	ID             string
	TaskID         string
	Index          int
	Name           string
	PoolID         string
	Syntax         string
	Script         string
	ContainerImage string
	// Requires lists the step's tool requirements ("kubectl=1.22.6"); it
	// is set when the task is created and never changes.
	Requires     []string
	State        string
	WorkerID     string
	ExitCode     *int
	Error        string
	StartedAt    *time.Time
	DispatchedAt *time.Time
	FinishedAt   *time.Time
}

// LogLine is one line of a task log.
type LogLine struct {
	Seq     int64
	Time    time.Time
	Level   string
	Step    string
	Message string
}

// Worker is one worker machine and its lease.
type Worker struct {
	ID string
	// Name is the name a static worker registered with ("" for the
	// workers a provider makes).
	Name     string
	TenantID string
	PoolID   string
	Image    string
	Build    string
	Provider string
	// ResourceID is the provider's handle (a pid, a container id).
	ResourceID       string
	State            string
	RegistrationHash string
	CredentialHash   string
	CreatedAt        time.Time
	RegisteredAt     *time.Time
	LeasedAt         *time.Time
	LastUsedAt       *time.Time
	LastHeartbeatAt  *time.Time
	DestroyAt        *time.Time
	DestroyedAt      *time.Time
	DestroyReason    string
	// Leases is how many steps a busy worker runs now (its pool's
	// capacity at most); 0 in every other state. WorkerUpdate keeps it so:
	// moving a worker to busy sets 1, to any other state 0.
	Leases int
	// AgentVersion is the version the worker's agent last reported.
	AgentVersion string
	// Disabled is set on a static worker its tenant disabled: it stays
	// registered and heartbeats, but WorkerAcquireIdle passes it over.
	Disabled bool
	// HealthStatus is the outcome of the static worker's last health
	// check: "" before the first (or when its pool has none), else
	// api.HealthHealthy, api.HealthWarning or api.HealthFailed. WorkerAcquireIdle
	// passes over a worker whose last check failed.
	HealthStatus string
	// HealthMessage is the last check's output (its last lines) or why it
	// could not run.
	HealthMessage string
	// HealthCheckedAt is when the server recorded the last check.
	HealthCheckedAt *time.Time
}

// WorkerUpdateParams sets State (when not empty) and every non-nil field
// of one worker.
type WorkerUpdateParams struct {
	ID         string
	FromStates []string
	// LastLease, when set, applies the update only while the worker holds
	// at most one lease, else ErrConflict: Release ends a busy worker's
	// last step this way, so a step that leased it meanwhile is not lost.
	LastLease bool
	// HeartbeatBefore, when set, is a guard like FromStates: the worker's
	// LastHeartbeatAt must be unset or before it, else ErrConflict (a
	// heartbeat came in since the caller read the worker).
	HeartbeatBefore *time.Time
	// HealthStatusIs, when set, is a guard like FromStates: the worker's
	// HealthStatus must be this, else ErrConflict (its health changed
	// since the caller read it: a concurrent heartbeat, a pool edit).
	HealthStatusIs *string
	// HealthCheckedNotAfter, when set, is a guard like FromStates: the
	// worker's HealthCheckedAt must be unset or at or before it, else
	// ErrConflict (an outcome was recorded since).
	HealthCheckedNotAfter *time.Time
	State                 string

	ResourceID       *string
	RegistrationHash *string
	CredentialHash   *string
	RegisteredAt     *time.Time
	LeasedAt         *time.Time
	LastUsedAt       *time.Time
	LastHeartbeatAt  *time.Time
	DestroyAt        *time.Time
	DestroyedAt      *time.Time
	DestroyReason    *string
	AgentVersion     *string
	Disabled         *bool
	HealthStatus     *string
	HealthMessage    *string
	HealthCheckedAt  *time.Time
}

// Assignment is one column WorkerUpdateParams sets, with its value: a
// string, a bool, or a time.Time that each backend encodes its own way.
type Assignment struct {
	Column string
	Value  any
}

// Assignments lists the columns p sets, state first, in a fixed order: the
// one list both backends build their UPDATE from.
func (p *WorkerUpdateParams) Assignments() []Assignment {
	var out []Assignment
	if p.State != "" {
		leases := 0
		if p.State == "busy" { // api.WorkerBusy
			leases = 1
		}
		out = append(out, Assignment{"state", p.State}, Assignment{"leases", leases})
	}
	for _, f := range []struct {
		column string
		value  *string
	}{
		{"resource_id", p.ResourceID},
		{"registration_hash", p.RegistrationHash},
		{"credential_hash", p.CredentialHash},
		{"destroy_reason", p.DestroyReason},
		{"agent_version", p.AgentVersion},
		{"health_status", p.HealthStatus},
		{"health_message", p.HealthMessage},
	} {
		if f.value != nil {
			out = append(out, Assignment{f.column, *f.value})
		}
	}
	for _, f := range []struct {
		column string
		value  *time.Time
	}{
		{"registered_at", p.RegisteredAt},
		{"leased_at", p.LeasedAt},
		{"last_used_at", p.LastUsedAt},
		{"last_heartbeat_at", p.LastHeartbeatAt},
		{"destroy_at", p.DestroyAt},
		{"destroyed_at", p.DestroyedAt},
		{"health_checked_at", p.HealthCheckedAt},
	} {
		if f.value != nil {
			out = append(out, Assignment{f.column, *f.value})
		}
	}
	if p.Disabled != nil {
		out = append(out, Assignment{"disabled", *p.Disabled})
	}
	return out
}

// WorkerGuardError is the ErrConflict of a WorkerUpdate whose guard
// (p.FromStates, p.LastLease, p.HeartbeatBefore, p.HealthStatusIs,
// p.HealthCheckedNotAfter) refused worker cur as stored (only its State,
// Leases, LastHeartbeatAt, HealthStatus and HealthCheckedAt are looked
// at); nil when every guard passes.
func WorkerGuardError(p *WorkerUpdateParams, cur *Worker) error {
	switch {
	case len(p.FromStates) > 0 && !slices.Contains(p.FromStates, cur.State):
		return fmt.Errorf("state %s is not one of %s: %w", cur.State, strings.Join(p.FromStates, ", "), ErrConflict)
	case p.LastLease && cur.Leases > 1:
		return fmt.Errorf("it holds %d leases, not only its last: %w", cur.Leases, ErrConflict)
	case p.HeartbeatBefore != nil && cur.LastHeartbeatAt != nil && !cur.LastHeartbeatAt.Before(*p.HeartbeatBefore):
		return fmt.Errorf("last heartbeat %s is not before %s: %w", cur.LastHeartbeatAt, p.HeartbeatBefore, ErrConflict)
	case p.HealthStatusIs != nil && cur.HealthStatus != *p.HealthStatusIs:
		return fmt.Errorf("health status %q is not %q: %w", cur.HealthStatus, *p.HealthStatusIs, ErrConflict)
	case p.HealthCheckedNotAfter != nil && cur.HealthCheckedAt != nil && cur.HealthCheckedAt.After(*p.HealthCheckedNotAfter):
		return fmt.Errorf("health checked at %s, after %s: %w", cur.HealthCheckedAt, p.HealthCheckedNotAfter, ErrConflict)
	}
	return nil
}

// LastLeaseError is the ErrConflict of a WorkerReleaseLease of a worker in
// state holding leases: not busy, or busy with its last lease.
func LastLeaseError(state string, leases int) error {
	return fmt.Errorf("it is %s holding %d leases, not more than one: %w", state, leases, ErrConflict)
}

// WorkerAcquireIdleParams selects the worker to lease for a step.
type WorkerAcquireIdleParams struct {
	TenantID string
	PoolID   string
	Image    string
	Build    string
	Now      time.Time
	// Capacity above 1 lets a busy worker holding fewer leases take one
	// more (its pool's Capacity); 0 or 1: idle workers only.
	Capacity int
	// CreatedAfter, when not zero, passes over workers created at or
	// before it: a busy worker's DestroyAt is its last idle spell's, so
	// its max lifetime is checked this way.
	CreatedAfter time.Time
}

// WorkerLimits bounds the live workers (LiveWorkerStates) WorkerCreate
// may add; a zero field is no bound.
type WorkerLimits struct {
	// Tenant bounds the live workers of the new worker's tenant.
	Tenant int
	// Pool bounds the live workers of its pool.
	Pool int
	// Provider bounds the live workers of its provider, of every tenant
	// and standby.
	Provider int
	// Provisioning bounds the workers of its provider being created
	// (state provisioning): the creations in flight.
	Provisioning int
}

// Scopes of a LimitError.
const (
	LimitTenant       = "tenant"
	LimitPool         = "pool"
	LimitProvider     = "provider"
	LimitProvisioning = "provisioning"
)

// LimitError says which of the WorkerLimits refused a worker. It wraps
// ErrLimit.
type LimitError struct {
	// Scope is LimitTenant, LimitPool, LimitProvider or LimitProvisioning.
	Scope string
	Max   int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s limit of %d workers reached", e.Scope, e.Max)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// WorkerLeaseStandbyParams selects the standby worker to lease to a
// tenant.
type WorkerLeaseStandbyParams struct {
	TenantID string
	PoolID   string
	Image    string
	Build    string
	Now      time.Time
	// MaxLive is the tenant's limit of live workers; 0 means none.
	MaxLive int
	// MaxPool is the pool's limit of live workers; 0 means none.
	MaxPool int
	// CreatedAfter excludes workers created at or before it: those at the
	// tenant's max lifetime.
	CreatedAfter time.Time
}

// WorkerListParams filters WorkerList. Empty fields match everything.
type WorkerListParams struct {
	TenantID string
	PoolID   string
	States   []string
	// Standby keeps the standby workers only: those of no tenant.
	Standby bool
}
