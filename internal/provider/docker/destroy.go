package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/dynpool/dynpool/internal/provider"
)

// stopGrace is how long a worker's agent has between SIGTERM (through the
// container's init) and SIGKILL when its container is destroyed: longer
// than the agent's own grace for its script (agent.ScriptKillGrace, 5 s),
// as in the process provider, so an agent told to stop can stop its
// script and report the job. An agent that exits on SIGTERM costs no wait.
const stopGrace = 10

// Destroy stops container resourceID (SIGTERM, SIGKILL after stopGrace
// seconds), force-removes it with its anonymous volumes and its execution
// containers (see [Provider.RunStep]), and then, best
// effort, removes its tenant's network if no container of this
// installation is left for that tenant. A container that is gone already
// (or an id that names no container) is not an error; a container of
// another installation is. Concurrent calls for one id run one after the
// other.
func (p *Provider) Destroy(ctx context.Context, resourceID string) error {
	if resourceID == "" {
		return errors.New("destroy worker: resource id is empty")
	}
	unlock := p.locks.lock("container/" + resourceID)
	defer unlock()
	info, err := p.client.ContainerInspect(ctx, resourceID)
	// The engine also finds containers by name and id prefix; our ids are
	// full ids, so another answer means ours is gone. Its execution
	// containers may be left: they name it.
	if cerrdefs.IsNotFound(err) || (err == nil && info.ID != resourceID) {
		if err := p.removeSteps(ctx, LabelResource, resourceID); err != nil {
			return fmt.Errorf("destroy worker container %s: %w", resourceID, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("destroy worker container %s: %w", resourceID, err)
	}
	var labels map[string]string
	if info.Config != nil {
		labels = info.Config.Labels
	}
	if inst := labels[provider.LabelInstallation]; inst != p.cfg.Installation {
		return fmt.Errorf("destroy worker container %s: it belongs to installation %q, not %q", resourceID, inst, p.cfg.Installation)
	}
	timeout := stopGrace
	if err := p.client.ContainerStop(ctx, resourceID, container.StopOptions{Timeout: &timeout}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("destroy worker container %s: stop: %w", resourceID, err)
	}
	err = p.client.ContainerRemove(ctx, resourceID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("destroy worker container %s: remove: %w", resourceID, err)
	}
	p.cfg.Logger.InfoContext(ctx, "worker container destroyed", "worker_id", labels[provider.LabelWorker],
		"tenant_id", labels[provider.LabelTenant], "container_id", resourceID)
	if worker := labels[provider.LabelWorker]; worker != "" {
		if err := p.removeSteps(ctx, provider.LabelWorker, worker); err != nil {
			return fmt.Errorf("destroy worker container %s: %w", resourceID, err)
		}
	}
	for _, tenant := range networkTenants(p, labels[provider.LabelTenant], info.NetworkSettings) {
		p.removeNetworkIfUnused(ctx, tenant)
	}
	return nil
}

// networkTenants returns the tenants ("" for the standby network) whose
// networks a destroyed container was on: its tenant label's (empty for a
// worker born standby), and those it was attached to (a bound standby
// worker's tenant).
func networkTenants(p *Provider, labelTenant string, ns *container.NetworkSettings) []string {
	seen := map[string]bool{labelTenant: true} // "": born standby, the standby network
	if ns != nil {
		prefix := p.cfg.NetworkPrefix + "-" + p.cfg.Installation + "-"
		for name := range ns.Networks {
			if t, ok := strings.CutPrefix(name, prefix); ok {
				if t == standbyNetwork {
					t = ""
				}
				seen[t] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// removeSteps force-removes the execution containers whose label key is
// value (a worker's id, or its container's id), which a server that
// stopped while they ran may have left.
func (p *Provider) removeSteps(ctx context.Context, key, value string) error {
	left, err := p.client.ContainerList(ctx, container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", provider.LabelInstallation+"="+p.cfg.Installation),
			filters.Arg("label", key+"="+value),
			filters.Arg("label", LabelRole+"="+RoleStep),
		),
	})
	if err != nil {
		return fmt.Errorf("list execution containers: %w", err)
	}
	for _, c := range left {
		err := p.client.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove execution container %s: %w", c.ID, err)
		}
		p.cfg.Logger.InfoContext(ctx, "execution container of a destroyed worker removed", "worker_id", c.Labels[provider.LabelWorker], "container_id", c.ID)
	}
	return nil
}

// removeNetworkIfUnused removes tenant's network when no container of this
// installation and tenant is left, in any state. Failures are logged: a
// network left behind is removed by the tenant's next Destroy.
func (p *Provider) removeNetworkIfUnused(ctx context.Context, tenant string) {
	name := p.networkName(tenant)
	unlock := p.locks.lock("network/" + name)
	defer unlock()
	left, err := p.client.ContainerList(ctx, container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", provider.LabelInstallation+"="+p.cfg.Installation),
			filters.Arg("label", provider.LabelTenant+"="+tenant), // "": standby workers, bound or not
		),
	})
	if err != nil {
		p.cfg.Logger.WarnContext(ctx, "list containers before removing tenant network", "tenant_id", tenant, "network", name, "error", err)
		return
	}
	if len(left) > 0 {
		return
	}
	// A bound standby worker carries no tenant label: look at what the
	// network itself holds too.
	if n, err := p.client.NetworkInspect(ctx, name, network.InspectOptions{}); err == nil && len(n.Containers) > 0 {
		return
	}
	err = p.client.NetworkRemove(ctx, name)
	switch {
	case err == nil:
		p.cfg.Logger.InfoContext(ctx, "tenant network removed", "tenant_id", tenant, "network", name)
	case cerrdefs.IsNotFound(err):
	default:
		p.cfg.Logger.WarnContext(ctx, "remove tenant network", "tenant_id", tenant, "network", name, "error", err)
	}
}
