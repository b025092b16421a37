// Package provider defines the seam between dynpool and the machines its
// workers run on. A [Provider] creates a worker machine that starts
// `dynpool agent`, lists the machines of this installation and destroys
// them. Implementations live in sub-packages (process, later docker,
// kubernetes, sim) and pass the conformance suite in providertest.
package provider

import (
	"context"
	"errors"
	"maps"
)

// Label keys every provider resource carries (invariant 2 of the design:
// nothing leaks), so that List can find what a crashed server left behind.
const (
	LabelInstallation = "dynpool.installation"
	LabelWorker       = "dynpool.worker"
	LabelTenant       = "dynpool.tenant"
)

// Environment variables of a worker's agent, set by every provider that
// starts `dynpool agent`: the agent reads the first three
// (agent.ConfigFromEnv, whose agent.EnvServer, agent.EnvToken and
// agent.EnvWorkDir refer to these: this is their one definition);
// EnvInstallation, EnvWorkerID and EnvTenantID carry the Label* labels.
const (
	EnvServer       = "DYNPOOL_SERVER"
	EnvAgentToken   = "DYNPOOL_AGENT_TOKEN"
	EnvAgentWorkDir = "DYNPOOL_AGENT_WORKDIR"
	EnvInstallation = "DYNPOOL_INSTALLATION"
	EnvWorkerID     = "DYNPOOL_WORKER_ID"
	EnvTenantID     = "DYNPOOL_TENANT_ID"
)

// ErrUnsupported is returned (wrapped, with the reason) by Supports when the
// provider cannot make workers of an image.
var ErrUnsupported = errors.New("provider cannot make this image")

// Provider creates and destroys worker machines.
type Provider interface {
	// Name is the provider's name as used in the catalog's artifacts and
	// the --provider flag: "process", "docker", ...
	Name() string
	// Supports returns nil when the provider can make a worker of an image
	// with this OS and these build artifacts (keyed by provider name), and
	// otherwise an error wrapping ErrUnsupported that says why.
	Supports(os string, artifacts map[string]string) error
	// Create starts a worker machine whose agent registers with
	// p.ServerURL using p.RegistrationToken. It returns once the machine is
	// started, not once the agent has registered.
	Create(ctx context.Context, p *CreateParams) (*Resource, error)
	// Destroy ends the machine and everything in it. Destroying a resource
	// that is already gone is not an error.
	Destroy(ctx context.Context, resourceID string) error
	// List returns the resources of this installation, including ones
	// created before a restart of the server; those whose agent no longer
	// runs are marked Stopped.
	List(ctx context.Context) ([]*Resource, error)
}

// Binder is implemented by providers whose machines must change when a
// standby worker (made with an empty TenantID) is leased to a tenant: the
// docker provider moves its container onto the tenant's network. Bind is
// called once, before the worker runs any step of the tenant; an error
// gets the worker destroyed.
type Binder interface {
	Bind(ctx context.Context, resourceID, tenantID string) error
}

// Watcher is implemented by providers that learn at once when a machine
// ends, rather than at the next List: the kubernetes provider watches its
// pods. Watch runs until ctx ends (retrying on its own after errors) and
// calls changed, which returns at once, after a resource stopped or went
// away; the fleet then reconciles at its next reaper tick instead of
// waiting for the reconcile period, so the worker is lost sooner.
type Watcher interface {
	Watch(ctx context.Context, changed func())
}

// CreateParams describes the worker machine to create. TenantID is empty
// for a standby worker, which belongs to no tenant until it is bound.
type CreateParams struct {
	WorkerID string
	TenantID string
	// Image is the catalog id of the worker's image ("ubuntu-22.04");
	// providers may key per-image settings by it (the kubernetes
	// provider's node selectors and tolerations).
	Image string
	OS    string
	// Artifact is the image build's artifact for this provider (for docker
	// an image reference; for process empty).
	Artifact string
	// ServerURL is the base URL the agent reaches the server at.
	ServerURL string
	// ServerFingerprint is the fingerprint of the server's TLS certificate
	// the agent must pin (DYNPOOL_SERVER_FINGERPRINT); "" for plain HTTP.
	ServerFingerprint string
	// RegistrationToken is the one-time token the agent registers with.
	RegistrationToken string
	// Labels are put on the resource; they include the Label* keys.
	Labels map[string]string
	// CacheImages are the worker-tools images (container image
	// references) the new worker should have cached for its execution
	// containers; providers that run none ignore them.
	CacheImages []string
}

// ResourceLabels returns the labels of the resource p describes:
// p.Labels with LabelInstallation, LabelWorker and LabelTenant set from
// installation and p, so that List always finds it. p.Labels is not
// changed.
func ResourceLabels(p *CreateParams, installation string) map[string]string {
	labels := make(map[string]string, len(p.Labels)+3)
	maps.Copy(labels, p.Labels)
	labels[LabelInstallation] = installation
	labels[LabelWorker] = p.WorkerID
	labels[LabelTenant] = p.TenantID
	return labels
}

// Resource is one machine as the provider sees it.
type Resource struct {
	// ID is the provider's handle, stored as the worker's resource id.
	ID     string
	Labels map[string]string
	// Stopped says the machine is still there but its agent no longer
	// runs (a container that exited): the worker is lost, and only
	// Destroy is left to do. Providers whose machines end with their agent
	// never list such resources.
	Stopped bool
}

// WorkerID returns the worker id label of r.
func (r *Resource) WorkerID() string { return r.Labels[LabelWorker] }
