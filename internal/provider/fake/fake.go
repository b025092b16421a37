// Package fake is an in-memory [provider.Provider] for tests of the
// packages above the providers (fleet, task): it starts no machine, records
// what it is asked, and keeps each worker's registration token so the test
// can play the agent. Real providers are tested against real processes
// and engines in their own packages and in the server's end-to-end tests.
package fake

import (
	"context"
	"sync"

	"github.com/dynpool/dynpool/internal/provider"
)

// Provider is the fake provider. The zero value is not ready; use New.
type Provider struct {
	mu         sync.Mutex
	live       map[string]*provider.Resource
	tokens     map[string]string // worker id → registration token
	destroyed  []string
	createErr  error
	destroyErr error
	// Created receives the id of every worker created, in order.
	Created chan string
}

// New returns a fake provider whose Created channel holds up to 100 ids.
func New() *Provider {
	return &Provider{live: map[string]*provider.Resource{}, tokens: map[string]string{}, Created: make(chan string, 100)}
}

// Name is "fake".
func (p *Provider) Name() string { return "fake" }

// Supports accepts every image.
func (p *Provider) Supports(string, map[string]string) error { return nil }

// Create records a live resource "res-<worker id>", or fails with the
// error set by FailCreates.
func (p *Provider) Create(_ context.Context, cp *provider.CreateParams) (*provider.Resource, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.createErr != nil {
		return nil, p.createErr
	}
	r := &provider.Resource{ID: "res-" + cp.WorkerID, Labels: cp.Labels}
	p.live[r.ID] = r
	p.tokens[cp.WorkerID] = cp.RegistrationToken
	p.Created <- cp.WorkerID
	return r, nil
}

// Destroy forgets the resource, or fails with the error set by
// FailDestroys.
func (p *Provider) Destroy(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.destroyErr != nil {
		return p.destroyErr
	}
	delete(p.live, id)
	p.destroyed = append(p.destroyed, id)
	return nil
}

// List returns the live resources.
func (p *Provider) List(context.Context) ([]*provider.Resource, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*provider.Resource, 0, len(p.live))
	for _, r := range p.live {
		out = append(out, r)
	}
	return out, nil
}

// Token returns the registration token worker id was created with.
func (p *Provider) Token(workerID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens[workerID]
}

// FailCreates makes every later Create fail with err (nil: succeed).
func (p *Provider) FailCreates(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.createErr = err
}

// FailDestroys makes every later Destroy fail with err (nil: succeed).
func (p *Provider) FailDestroys(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.destroyErr = err
}

// Vanish removes a resource as if its machine died on its own.
func (p *Provider) Vanish(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, id)
}

// Stop marks resource id Stopped, as a machine whose agent exited.
func (p *Provider) Stop(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.live[id]; ok {
		stopped := *r // List's callers may hold r
		stopped.Stopped = true
		p.live[id] = &stopped
	}
}

// Leave adds a resource the store does not know, as a crashed server
// would leave behind.
func (p *Provider) Leave(r *provider.Resource) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live[r.ID] = r
}

// Has reports whether resource id is live.
func (p *Provider) Has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.live[id]
	return ok
}

// Destroyed returns the ids Destroy was called with, in order.
func (p *Provider) Destroyed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.destroyed...)
}
