package docker

import (
	"context"
	"fmt"
	"sort"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/dynpool/dynpool/internal/provider"
)

// List returns one resource per container of this installation (found by
// its provider.LabelInstallation label), with the provider.Label* labels
// rebuilt from the container's, sorted by container id. A created,
// exited or dead container is a worker whose agent is not running: it is
// listed Stopped, so that the fleet destroys it even when it knows no such
// worker. Execution containers (LabelRole) are no workers and are not
// listed.
func (p *Provider) List(ctx context.Context) ([]*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	cs, err := p.client.ContainerList(ctx, container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", provider.LabelInstallation+"="+p.cfg.Installation),
		),
	})
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	out := make([]*provider.Resource, 0, len(cs))
	for _, c := range cs {
		if c.Labels[provider.LabelInstallation] != p.cfg.Installation || c.Labels[LabelRole] != "" {
			continue
		}
		labels := make(map[string]string, len(resourceLabels))
		for _, k := range resourceLabels {
			if v, ok := c.Labels[k]; ok {
				labels[k] = v
			}
		}
		out = append(out, &provider.Resource{ID: c.ID, Labels: labels, Stopped: c.State != container.StateRunning})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
