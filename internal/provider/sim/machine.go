package sim

import (
	"context"
	"fmt"

	"github.com/dynpool/dynpool/internal/provider"
)

// Create waits CreateLatency, fails at CreateFailureRate with
// ErrSimulatedFailure, and otherwise records the machine under a resource
// id "sim-<n>-<worker id>" with params.Labels, and starts its agent
// (Config.RunAgent) in a goroutine of its own that outlives ctx (Destroy
// or Close stops it). An ended ctx is returned as an error (wrapped) and
// leaves nothing.
func (p *Provider) Create(ctx context.Context, params *provider.CreateParams) (*provider.Resource, error) {
	if err := p.sleep(ctx, p.cfg.CreateLatency); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	if p.fails(p.cfg.CreateFailureRate) {
		return nil, fmt.Errorf("create worker %s: %w (create failure rate %g)", params.WorkerID, ErrSimulatedFailure, p.cfg.CreateFailureRate)
	}
	agentCtx, stop := context.WithCancel(p.agents)
	m := &machine{stop: stop, agentDone: make(chan struct{})}
	id := p.cfg.Cloud.add(p.cfg.Installation, m, params.Labels)
	run := p.cfg.RunAgent
	if run == nil {
		run = p.runAgent
	}
	p.running.Go(func() {
		defer close(m.agentDone)
		run(agentCtx, params)
	})
	p.cfg.Logger.DebugContext(ctx, "sim worker created", "worker_id", params.WorkerID, "tenant_id", params.TenantID, "resource_id", id)
	return &provider.Resource{ID: id, Labels: m.res.Labels}, nil
}

// Destroy stops the machine's agent and waits for it, waits
// DestroyLatency, fails at DestroyFailureRate with ErrSimulatedFailure
// (the machine stays, its agent stopped), and otherwise forgets the
// machine. An unknown id, or one of another installation, is gone
// already: nil. A Destroy of a machine another Destroy is ending waits for
// that one.
func (p *Provider) Destroy(ctx context.Context, resourceID string) error {
	for {
		m, busy := p.cfg.Cloud.claim(p.cfg.Installation, resourceID)
		if m != nil {
			return p.destroy(ctx, m)
		}
		if busy == nil {
			return nil
		}
		select {
		case <-busy:
		case <-ctx.Done():
			return fmt.Errorf("destroy %s: %w", resourceID, ctx.Err())
		}
	}
}

// destroy ends m, which the caller claimed.
func (p *Provider) destroy(ctx context.Context, m *machine) error {
	m.stop()
	select {
	case <-m.agentDone:
	case <-ctx.Done():
		p.cfg.Cloud.unclaim(m)
		return fmt.Errorf("destroy %s: wait for its agent to stop: %w", m.res.ID, ctx.Err())
	}
	if err := p.sleep(ctx, p.cfg.DestroyLatency); err != nil {
		p.cfg.Cloud.unclaim(m)
		return fmt.Errorf("destroy %s: %w", m.res.ID, err)
	}
	if p.fails(p.cfg.DestroyFailureRate) {
		p.cfg.Cloud.unclaim(m)
		return fmt.Errorf("destroy %s: %w (destroy failure rate %g)", m.res.ID, ErrSimulatedFailure, p.cfg.DestroyFailureRate)
	}
	p.cfg.Cloud.remove(p.cfg.Installation, m.res.ID)
	close(m.done)
	p.cfg.Logger.DebugContext(ctx, "sim worker destroyed", "worker_id", m.res.WorkerID(), "resource_id", m.res.ID)
	return nil
}

// List returns the machines of the provider's installation, including
// those created by another Provider on the same Cloud, in no order.
func (p *Provider) List(ctx context.Context) ([]*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list sim machines: %w", err)
	}
	return p.cfg.Cloud.list(p.cfg.Installation), nil
}
