package docker

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/dynpool/dynpool/internal/provider"
)

var _ provider.Binder = (*Provider)(nil)

// Bind moves the container of a standby worker (made with an empty
// TenantID, on the standby network) to tenant's network, so that it can
// reach the tenant's other workers and no longer the standby workers that
// other tenants will lease. Connections the agent holds are cut by the
// move; it reconnects. The container keeps its empty tenant label:
// [Provider.Destroy] finds its network by the container's attachments.
func (p *Provider) Bind(ctx context.Context, resourceID, tenant string) error {
	if !validName.MatchString(tenant) {
		return fmt.Errorf("bind worker container %s: %w: tenant id %q", resourceID, ErrInvalidName, tenant)
	}
	netName := p.networkName(tenant)
	unlock := p.locks.lock("network/" + netName)
	err := p.ensureNetwork(ctx, netName, tenant)
	if err == nil {
		err = p.client.NetworkConnect(ctx, netName, resourceID, nil)
	}
	unlock()
	if err != nil {
		return fmt.Errorf("bind worker container %s to tenant %s: connect to %s: %w", resourceID, tenant, netName, err)
	}
	standby := p.networkName("")
	if err := p.client.NetworkDisconnect(ctx, standby, resourceID, true); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("bind worker container %s to tenant %s: leave %s: %w", resourceID, tenant, standby, err)
	}
	p.cfg.Logger.InfoContext(ctx, "standby worker container bound to its tenant", "container_id", resourceID, "tenant_id", tenant, "network", netName)
	return nil
}
